"""Build tiny real argostranslate packs at test time, and pytest fixtures that use them.

Real packs cannot be downloaded here, so the tests make their own: a genuine ``.argosmodel``
zip that argostranslate installs and runs, only very small and with a predictable output.

- ``sentencepiece.model``: a char-level sentencepiece model trained on a few sentences; every
  word of the mapping is a user-defined symbol, so it is always one piece.
- ``model/``: a 1-layer CTranslate2 Transformer whose weights are set with numpy and saved
  through ctranslate2's own ``Converter``. The decoder at step ``t`` attends to source
  position ``t`` (a binary-frequency position code makes that attention one-hot) and outputs
  the lookup-table image of that source piece; the source gets ``</s>`` appended, which maps
  to ``</s>`` and stops decoding. Pieces outside the mapping are copied, so any placeholder,
  number or URL survives, as a well-behaved real model would.
- ``minisbd/splitter.onnx``: a MiniSBD sentence splitter (one ONNX ``Gather``: ``.``, ``!``
  and ``?`` end a sentence), so argostranslate never downloads a splitter.

Import the fixtures into a test module with ``from tests.argos_packs import ...``.
"""

from __future__ import annotations

import io
import json
import socket
import zipfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pytest

# Characters the sentencepiece model knows; anything else still survives a pack (an unknown
# piece is copied from the source by ``replace_unknowns``) but known pieces keep it simple.
_ALPHABET = (
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    " .,;:!?'\"()[]{}<>/\\|@#$%&*+-=_~^`€£¥§°"
    "äöüÄÖÜßéèêëàâáíìîïóòôúùûñçÇÉÈÀÅåøØæÆąćęłńśźżĄĆĘŁŃŚŹŻ¿¡"
)
_CORPUS = [
    "Your order A-1234 was shipped.",
    "Ihre Bestellung #98231 wurde versandt.",
    "See https://shop.example.com/returns?id=7 or write to help@example.com.",
    "The price is €49.95, $9.95 or 1.299,00 €.",
    _ALPHABET,
]
POSITIONS = 1024  # longer than the 256 tokens argostranslate decodes, and than any test input
_FREQS = 10  # binary position code: periods 2, 4, ..., 1024
ATTENTION_SHARPNESS = 15.0  # logit gap between the attended position and any other
OUTPUT_LOGIT = 20.0  # logit of the mapped target piece; every other piece gets 0


def _check_mapping(mapping: Mapping[str, str]) -> dict[str, str]:
    """Return the mapping with capitalised variants, refusing what one piece cannot hold."""
    full: dict[str, str] = {}
    for src, tgt in mapping.items():
        for word in (src, tgt):
            if not word or any(c.isspace() for c in word) or "_" in word:
                raise ValueError(f"mapping words must be single words without '_': {word!r}")
        full[src] = tgt
        full.setdefault(src[:1].upper() + src[1:], tgt[:1].upper() + tgt[1:])
    return full


def _train_sentencepiece(words: list[str]) -> bytes:
    import sentencepiece as spm

    buf = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(_CORPUS * 3),
        model_writer=buf,
        model_type="char",
        vocab_size=4000,
        hard_vocab_limit=False,  # char models stop at the alphabet; the size is only a cap
        user_defined_symbols=words,
        character_coverage=1.0,
        minloglevel=2,
    )
    return buf.getvalue()


def _position_codes(num_positions: int) -> np.ndarray:
    """Return ``[cos, sin]`` of ``pi * p / 2**k``: dot products peak at ``p == q`` by >= 2."""
    p = np.arange(num_positions, dtype=np.float64)[:, None]
    w = np.pi / 2.0 ** np.arange(_FREQS, dtype=np.float64)[None, :]
    return np.concatenate([np.cos(p * w), np.sin(p * w)], axis=1)


def _transformer_spec(pieces: list[str], table: np.ndarray) -> Any:
    """Return a TransformerSpec that maps source piece ``i`` at step ``i`` to ``table[i]``.

    Layout of the model dimension (every block mirrored so each vector has mean 0 and a fixed
    norm, which turns every pre-norm LayerNorm into a plain rescaling):
    ``[token one-hot (V) | -token (V) | position code (2F) | -position code (2F)]``.
    """
    from ctranslate2.specs import common_spec, transformer_spec

    v = len(pieces)
    k2 = 2 * _FREQS
    d = 2 * v + 2 * k2
    tok, ntok, pos, npos = (
        slice(0, v),
        slice(v, 2 * v),
        slice(2 * v, 2 * v + k2),
        slice(2 * v + k2, d),
    )
    f32 = np.float32
    codes = _position_codes(POSITIONS)

    s = np.sqrt(_FREQS)  # token part norm^2 = 2 s^2 = 2F = position part norm^2
    enc_emb = np.zeros((v, d))
    enc_emb[:, tok] = s * np.eye(v)
    enc_emb[:, ntok] = -s * np.eye(v)
    positions = np.zeros((POSITIONS, d))
    positions[:, pos] = codes
    positions[:, npos] = -codes
    sigma_enc = np.sqrt(4 * _FREQS / d)  # std of an encoder vector
    sigma_dec = np.sqrt(2 * _FREQS / d)  # std of a decoder vector (positions only)

    spec = transformer_spec.TransformerSpec.from_config(
        1, 1, pre_norm=True, activation=common_spec.Activation.RELU
    )
    spec.config.add_source_eos = True  # the </s> at source position n ends the output

    def norm(ln: Any) -> None:
        ln.gamma = np.ones(d, f32)
        ln.beta = np.zeros(d, f32)

    def linear(lin: Any, weight: np.ndarray) -> None:
        lin.weight = weight.astype(f32)
        lin.bias = np.zeros(weight.shape[0], f32)

    def silent_ffn(ffn: Any) -> None:
        norm(ffn.layer_norm)
        linear(ffn.linear_0, np.zeros((4, d)))
        linear(ffn.linear_1, np.zeros((d, 4)))

    enc = spec.encoder
    enc.scale_embeddings = False
    enc.embeddings[0].weight = enc_emb.astype(f32)
    enc.position_encodings.encodings = positions.astype(f32)
    norm(enc.layer_norm)
    layer = enc.layer[0]
    norm(layer.self_attention.layer_norm)
    linear(layer.self_attention.linear[0], np.zeros((3 * d, d)))  # encoder attention is a no-op
    linear(layer.self_attention.linear[1], np.zeros((d, d)))
    silent_ffn(layer.ffn)

    dec = spec.decoder
    dec.scale_embeddings = False
    dec.embeddings.weight = np.zeros((v, d), f32)  # the step's position is all that matters
    dec.position_encodings.encodings = positions.astype(f32)
    norm(dec.layer_norm)
    layer = dec.layer[0]
    norm(layer.self_attention.layer_norm)
    linear(layer.self_attention.linear[0], np.zeros((3 * d, d)))
    linear(layer.self_attention.linear[1], np.zeros((d, d)))
    # Cross-attention: query = position t, key = position p, value = source token one-hot.
    norm(layer.attention.layer_norm)
    a = ATTENTION_SHARPNESS / 2 * sigma_dec * sigma_enc * np.sqrt(d)  # 1/sqrt(d) undone
    query = np.zeros((d, d))
    query[pos, pos] = a * np.eye(k2)
    key_value = np.zeros((2 * d, d))
    key_value[pos, pos] = np.eye(k2)
    key_value[d + tok.start : d + tok.stop, tok] = np.eye(v)
    key_value[d + ntok.start : d + ntok.stop, ntok] = np.eye(v)
    linear(layer.attention.linear[0], query)
    linear(layer.attention.linear[1], key_value)
    linear(layer.attention.linear[2], np.eye(d))
    silent_ffn(layer.ffn)
    # Output: logits[table[i]] from the token block; the final LayerNorm only rescales it.
    token_after_attention = s / sigma_enc
    sigma_out = np.sqrt((2 * token_after_attention**2 + 2 * k2 / 2) / d)
    b = OUTPUT_LOGIT / (token_after_attention / sigma_out)
    projection = np.zeros((v, d))
    projection[table, np.arange(v)] = b
    linear(dec.projection, projection)

    spec.register_source_vocabulary(pieces)
    spec.register_target_vocabulary(pieces)
    return spec


def _save_ctranslate2(spec: Any, out: Path) -> None:
    from ctranslate2.converters import Converter

    class _SpecConverter(Converter):  # ctranslate2's own save path: validate, optimize, save
        def _load(self) -> Any:
            return spec

    _SpecConverter().convert(str(out), force=True)


# --- a MiniSBD splitter as a hand-encoded ONNX protobuf (the onnx package is not installed) ---


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _field(number: int, value: bytes | str | int) -> bytes:
    if isinstance(value, int):
        return _varint(number << 3) + _varint(value)
    data = value.encode() if isinstance(value, str) else value
    return _varint(number << 3 | 2) + _varint(len(data)) + data


def _value_info(name: str, elem_type: int, dims: list[str]) -> bytes:
    shape = b"".join(_field(1, _field(2, dim)) for dim in dims)  # Dimension.dim_param
    tensor_type = _field(1, elem_type) + _field(2, shape)
    return _field(1, name) + _field(2, _field(1, tensor_type))


def _splitter_onnx(units: list[str]) -> bytes:
    """Return an ONNX model: ``scores = table[units]``; sentence ends score class 2."""
    table = np.zeros((len(units), 5), dtype=np.float32)
    table[:, 0] = 1.0
    for i, unit in enumerate(units):
        if unit == " ":
            table[i] = [0, 1, 0, 0, 0]  # token end
        elif unit in ".!?":
            table[i] = [0, 0, 1, 0, 0]  # sentence end
    initializer = (
        _field(1, table.shape[0])
        + _field(1, table.shape[1])
        + _field(2, 1)  # dims, FLOAT
        + _field(8, "table")
        + _field(9, table.tobytes())
    )
    node = _field(1, "table") + _field(1, "units") + _field(2, "scores") + _field(4, "Gather")
    graph = (
        _field(1, node)
        + _field(2, "tiny_sbd")
        + _field(5, initializer)
        + _field(11, _value_info("units", 7, ["N", "T"]))  # INT64
        + _field(11, _value_info("features", 1, ["N", "T", "F"]))  # FLOAT, unused
        + _field(12, _value_info("scores", 1, ["N", "T", "C"]))
    )
    vocab = {
        "lang": "",
        "idx": 0,
        "cutoff": 0,
        "lower": False,
        "_id2unit": units,
        "_unit2id": {u: i for i, u in enumerate(units)},
    }
    meta = {
        "lang_code": "xx",
        "config": json.dumps({"feat_funcs": ["space_before"], "max_seqlen": 1000}),
        "vocab": json.dumps(vocab),
        "lexicon": "null",
    }
    props = b"".join(_field(14, _field(1, k) + _field(2, val)) for k, val in meta.items())
    return (
        _field(1, 8)
        + _field(2, "faqbot-tests")
        + _field(7, graph)  # ir_version 8
        + _field(8, _field(2, 13))
        + props  # opset 13
    )


def build_argosmodel(
    out_dir: Path,
    from_code: str,
    to_code: str,
    mapping: Mapping[str, str],
    *,
    version: str = "1.0",
    splitter: bool = True,
) -> Path:
    """Build ``translate-<from>_<to>.argosmodel`` in ``out_dir`` and return its path.

    Words in ``mapping`` (and their capitalised forms) are translated; every other piece is
    copied. ``splitter=False`` leaves out the bundled MiniSBD model (a pack as old ones are).
    """
    import sentencepiece as spm

    full = _check_mapping(mapping)
    words = sorted(set(full) | set(full.values()))
    sp_bytes = _train_sentencepiece(words)
    sp = spm.SentencePieceProcessor(model_proto=sp_bytes)
    pieces = [sp.id_to_piece(i) for i in range(sp.get_piece_size())]
    index = {p: i for i, p in enumerate(pieces)}
    table = np.arange(len(pieces))
    for src, tgt in full.items():
        table[index[src]] = index[tgt]

    name = f"translate-{from_code}_{to_code}"
    work = out_dir / f"{name}-{version}.build"
    root = work / f"{from_code}_{to_code}"
    root.mkdir(parents=True, exist_ok=True)
    _save_ctranslate2(_transformer_spec(pieces, table), root / "model")
    (root / "sentencepiece.model").write_bytes(sp_bytes)
    if splitter:
        units = ["<PAD>", "<UNK>", *sorted(set(_ALPHABET))]
        (root / "minisbd").mkdir(exist_ok=True)
        (root / "minisbd" / "splitter.onnx").write_bytes(_splitter_onnx(units))
    metadata = {
        "package_version": version,
        "argos_version": "1.9",
        "from_code": from_code,
        "from_name": from_code.upper(),
        "to_code": to_code,
        "to_name": to_code.upper(),
        "type": "translate",
    }
    (root / "metadata.json").write_text(json.dumps(metadata, indent=2), encoding="utf-8")
    (root / "README.md").write_text(f"Tiny test pack {from_code}->{to_code}.\n", encoding="utf-8")

    archive = out_dir / f"{name}-{version}.argosmodel"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(root.rglob("*")):
            zf.write(path, path.relative_to(work).as_posix())
    return archive


# Mappings the tests share; predictable by construction.
DE_EN = {
    "hallo": "hello", "welt": "world", "ihre": "your", "bestellung": "order",
    "wurde": "was", "versandt": "shipped", "der": "the", "preis": "price", "ist": "is",
    "danke": "thanks", "siehe": "see", "schreiben": "write", "sie": "you", "an": "to",
    "oder": "or", "und": "and", "artikel": "item", "kostet": "costs",
}  # fmt: skip
EN_ES = {
    "hello": "hola", "world": "mundo", "your": "su", "order": "pedido", "was": "fue",
    "shipped": "enviado", "the": "el", "price": "precio", "is": "es", "thanks": "gracias",
    "see": "vea", "write": "escriba", "you": "usted", "to": "a", "or": "o", "and": "y",
    "item": "articulo", "costs": "cuesta",
}  # fmt: skip


# --- fixtures -----------------------------------------------------------------------------


def _refuse(*args: object, **kwargs: object) -> Any:
    raise OSError("network access is blocked in this test")


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make every name lookup and connection fail, as on a machine with no network."""
    monkeypatch.setattr(socket, "getaddrinfo", _refuse)
    monkeypatch.setattr(socket, "create_connection", _refuse)
    monkeypatch.setattr(socket.socket, "connect", _refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", _refuse)


@pytest.fixture(scope="session")
def argos_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Point argostranslate's own data, config and cache dirs at a temporary home.

    argostranslate reads these when first imported and creates folders there; the session
    scope keeps them alive as long as the imported module remembers them.
    """
    home = tmp_path_factory.mktemp("argos-home")
    mp = pytest.MonkeyPatch()
    for var in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME"):
        mp.setenv(var, str(home / var.lower()))
    mp.setenv("ARGOS_PACKAGES_DIR", str(home / "unused-packages"))
    yield home
    mp.undo()


@pytest.fixture(scope="session")
def argos_pack_factory(
    tmp_path_factory: pytest.TempPathFactory,
) -> Callable[..., Path]:
    """Return ``make(from_code, to_code, mapping, **kw) -> Path``, building each pack once."""
    out = tmp_path_factory.mktemp("argos-packs")
    built: dict[tuple[Any, ...], Path] = {}

    def make(from_code: str, to_code: str, mapping: Mapping[str, str], **kw: Any) -> Path:
        key = (from_code, to_code, tuple(sorted(mapping.items())), tuple(sorted(kw.items())))
        if key not in built:
            sub = out / f"{from_code}_{to_code}_{len(built)}"
            sub.mkdir()
            built[key] = build_argosmodel(sub, from_code, to_code, mapping, **kw)
        return built[key]

    return make


@pytest.fixture
def de_en_pack(argos_pack_factory: Callable[..., Path]) -> Path:
    """A de->en pack: hallo->hello, welt->world, bestellung->order ... (see DE_EN)."""
    return argos_pack_factory("de", "en", DE_EN)


@pytest.fixture
def en_es_pack(argos_pack_factory: Callable[..., Path]) -> Path:
    """An en->es pack: hello->hola, world->mundo, order->pedido ... (see EN_ES)."""
    return argos_pack_factory("en", "es", EN_ES)
