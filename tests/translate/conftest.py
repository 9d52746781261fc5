"""Fixtures of the translation tests: tiny real argostranslate packs (tests/support)."""

from tests.support.argos_packs import (  # noqa: F401  (fixtures, found by name)
    argos_home,
    argos_pack_factory,
    de_en_pack,
    en_es_pack,
    no_network,
)
