"""The documents name tests that exist: the threat model's proofs stay true."""

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _test_sources():
    files = [*REPO.glob("tests/**/*.py"), *REPO.glob("security_tests/**/*.py")]
    return {path: path.read_text() for path in files}


def test_every_test_the_threat_model_names_exists():
    text = (REPO / "threat_model" / "README.md").read_text()
    sources = _test_sources()
    named_files = set(re.findall(r"(?:tests|security_tests)/([\w/]+\.py)", text))
    for name in named_files:
        assert any(str(path).endswith(name) for path in sources), name
    defined = "\n".join(sources.values())
    missing = sorted(
        name
        for name in set(re.findall(r"\b(test_\w+)\b", text))
        if f"def {name}(" not in defined
        and f"{name}.py" not in named_files
        and not any(path.stem == name for path in sources)
    )
    assert not missing, missing
