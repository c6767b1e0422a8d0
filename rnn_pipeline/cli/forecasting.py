"""Commands of the forecasting task beyond ``fit``: backtest."""

import click

from rnn_pipeline import api
from rnn_pipeline.cli.options import user_errors


@click.command()
@click.argument("target", metavar="RUN|PIPELINE")
@click.option("--origins", type=click.IntRange(1, 1000), default=20, show_default=True,
              help="Forecast origins per series, the last one forecasting its last rows.")
@click.option("--step", type=click.IntRange(min=1), default=1, show_default=True,
              help="Rows between consecutive origins.")
@click.option("--refit", is_flag=True,
              help="Fit a model before each origin, on the rows before it [default: one "
                   "model: the run's, or for a PIPELINE one fitted before the first origin].")
@click.option("--out", type=click.Path(file_okay=False),
              help="New folder for the tables and plot [default: RUN/backtest, or "
                   "backtests/NAME].")
@click.option("--set", "overrides", multiple=True, metavar="KEY.PATH=VALUE",
              help="Override a pipeline value (PIPELINE only), e.g. --set model.units=32.")
def backtest(target, origins, step, refit, out, overrides):
    """Rolling-origin evaluation of a forecasting run or pipeline: every origin's forecast
    by the model and every baseline on the same windows (sMAPE, MASE, OWA against Naive2),
    per origin and per series, with a plot of the error by origin."""
    with user_errors():
        folder, summary, skipped = api.backtest(target, origins, step, refit, out,
                                                overrides, log=click.echo)
    click.echo(f"{'model':<26}{'sMAPE':>9}{'MASE':>9}{'OWA':>9}")
    for row in summary:
        click.echo(f"{row['model']:<26}{row['smape']:9.3f}{row['mase']:9.3f}{row['owa']:9.3f}")
    if skipped:
        click.echo(f"statsforecast's models were skipped: {skipped}")
    click.echo(f"Backtest of {summary[0]['windows']:,} windows -> {folder}")
