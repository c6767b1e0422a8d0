"""Calendar features of timestamps, computed in the graph from int64 seconds since
1970-01-01 (UTC, or naive local time), so that an export takes raw timestamps.

Each feature is a cycle (hour of the day, day of the week, ...) given as its sine and
cosine, so that the end of a cycle is next to its start.
"""

import math

import pandas as pd
import tensorflow as tf

from rnn_pipeline import choices
from rnn_pipeline.errors import pipeline_error

CALENDAR_FEATURES = choices.CALENDAR_FEATURES.declared
SECONDS_PER_DAY = 86_400


def check_calendar(names, argument="calendar"):
    """``names`` as a list: each a known feature, none repeated."""
    names = list(names)
    unknown = [n for n in names if n not in CALENDAR_FEATURES]
    if unknown or len(set(names)) != len(names):
        raise pipeline_error(argument, "must list distinct calendar features from: "
                             + ", ".join(map(repr, CALENDAR_FEATURES)), names)
    return names


def epoch_seconds(times):
    """pandas timestamps -> int64 seconds since 1970-01-01 (any resolution)."""
    return ((pd.DatetimeIndex(times) - pd.Timestamp(0)) // pd.Timedelta(seconds=1)).to_numpy(
        "int64")


def civil_date(days):
    """Days since 1970-01-01 (int64) -> (year, month 1-12, day 1-31), by Howard Hinnant's
    ``civil_from_days`` in integer ops."""
    z = days + 719_468
    era = tf.math.floordiv(z, 146_097)
    day_of_era = z - era * 146_097  # [0, 146096]
    year_of_era = (day_of_era - day_of_era // 1_460 + day_of_era // 36_524
                   - day_of_era // 146_096) // 365  # [0, 399]
    day_of_year = day_of_era - (365 * year_of_era + year_of_era // 4 - year_of_era // 100)
    shifted_month = (5 * day_of_year + 2) // 153  # 0 = March
    day = day_of_year - (153 * shifted_month + 2) // 5 + 1
    month = tf.where(shifted_month < 10, shifted_month + 3, shifted_month - 9)
    year = year_of_era + era * 400 + tf.cast(month <= 2, days.dtype)
    return year, month, day


def days_from_civil(year, month, day):
    """The inverse of `civil_date`: days since 1970-01-01."""
    year = year - tf.cast(month <= 2, year.dtype)
    era = tf.math.floordiv(year, 400)
    year_of_era = year - era * 400
    shifted_month = tf.where(month > 2, month - 3, month + 9)
    day_of_year = (153 * shifted_month + 2) // 5 + day - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    return era * 146_097 + day_of_era - 719_468


def calendar_values(seconds, name):
    """One feature's position in its cycle, from 0: (value, cycle length)."""
    seconds = tf.cast(seconds, tf.int64)
    days = tf.math.floordiv(seconds, SECONDS_PER_DAY)
    if name == "minute":
        return tf.math.floormod(seconds // 60, 60), 60
    if name == "hour":
        return tf.math.floormod(seconds // 3_600, 24), 24
    if name == "day_of_week":
        return tf.math.floormod(days + 3, 7), 7  # 1970-01-01 was a Thursday; Monday is 0
    year, month, day = civil_date(days)
    if name == "month":
        return month - 1, 12
    if name == "day_of_month":
        return day - 1, 31
    if name == "day_of_year":
        return days - days_from_civil(year, tf.ones_like(month), tf.ones_like(day)), 366
    raise pipeline_error("calendar", "must list distinct calendar features from: "
                         + ", ".join(map(repr, CALENDAR_FEATURES)), name)


def calendar_features(seconds, names):
    """int64 seconds (...,) -> float32 (..., 2 * len(names)): sine and cosine of each
    feature's phase in its cycle."""
    columns = []
    for name in names:
        value, cycle = calendar_values(seconds, name)
        phase = tf.cast(value, tf.float32) * (2 * math.pi / cycle)
        columns += [tf.sin(phase), tf.cos(phase)]
    return tf.stack(columns, axis=-1)
