"""Unpacking submitted zips: what is refused, and why."""

from __future__ import annotations

import os
import stat
import zipfile
from pathlib import Path

import pytest

from grader import submission
from grader.archive import ArchiveError, ArchiveLimits, extract


def _zip(path: Path, members: dict[str, bytes], links: dict[str, str] | None = None) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
        for name, target in (links or {}).items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(info, target)
    return path


def test_a_plain_zip_unpacks(tmp_path):
    z = _zip(tmp_path / "a.zip", {"ex1_loss/loss.py": b"x = 1\n", ".DS_Store": b"", "__MACOSX/._loss.py": b""})
    out = extract(z, tmp_path / "out")
    assert (out / "ex1_loss" / "loss.py").read_bytes() == b"x = 1\n"
    assert not (out / ".DS_Store").exists() and not (out / "__MACOSX").exists()


@pytest.mark.parametrize(
    "name, words",
    [("../evil.py", "leaves its folder"), ("a/../../evil.py", "leaves its folder"), ("/etc/evil.py", "absolute path")],
)
def test_paths_that_escape_are_refused(tmp_path, name, words):
    z = _zip(tmp_path / "a.zip", {"loss.py": b"", name: b"boom"})
    with pytest.raises(ArchiveError, match=words):
        extract(z, tmp_path / "out")
    assert not (tmp_path / "evil.py").exists()
    assert not (tmp_path / "out" / "loss.py").exists(), "nothing is written before every member is checked"


def test_symlinks_are_refused(tmp_path):
    z = _zip(tmp_path / "a.zip", {"loss.py": b""}, links={"secret": "/etc/passwd"})
    with pytest.raises(ArchiveError, match="symbolic link"):
        extract(z, tmp_path / "out")


def test_too_many_files_are_refused(tmp_path):
    z = _zip(tmp_path / "a.zip", {f"f{i}.py": b"" for i in range(11)})
    with pytest.raises(ArchiveError, match="11 files; the limit is 10"):
        extract(z, tmp_path / "out", ArchiveLimits(max_files=10))


def test_a_zip_bomb_is_refused(tmp_path):
    z = _zip(tmp_path / "a.zip", {"big.bin": b"\0" * 2_000_000})
    assert z.stat().st_size < 100_000
    with pytest.raises(ArchiveError, match="expands to 2000000 bytes"):
        extract(z, tmp_path / "out", ArchiveLimits(max_total_bytes=1_000_000))


def test_lying_sizes_are_caught_while_writing(tmp_path):
    z = _zip(tmp_path / "a.zip", {"big.bin": b"\0" * 200_000})
    data = bytearray(z.read_bytes())
    # Shrink the declared size in the central directory: the bytes written must still be counted.
    cd = data.rfind(b"PK\x01\x02")
    data[cd + 24 : cd + 28] = (10).to_bytes(4, "little")
    z.write_bytes(bytes(data))
    with pytest.raises(ArchiveError):
        extract(z, tmp_path / "out", ArchiveLimits(max_total_bytes=100_000))


def test_an_oversized_archive_is_refused(tmp_path):
    z = _zip(tmp_path / "a.zip", {"a.bin": os.urandom(5000)})
    with pytest.raises(ArchiveError, match="the limit is 1000"):
        extract(z, tmp_path / "out", ArchiveLimits(max_archive_bytes=1000))


def test_not_a_zip(tmp_path):
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"this is not a zip")
    with pytest.raises(ArchiveError, match="not a valid zip"):
        extract(bad, tmp_path / "out")


def test_prepare_looks_through_a_wrapping_folder(tmp_path):
    z = _zip(tmp_path / "alice.zip", {"alice/ex1_loss/loss.py": b"x = 1\n"})
    root = submission.prepare(z, tmp_path / "scratch")
    assert (root / "ex1_loss" / "loss.py").is_file()
    flat = tmp_path / "bob"
    (flat / "nested").mkdir(parents=True)
    (flat / "nested" / "loss.py").write_text("")
    assert submission.prepare(flat, tmp_path / "scratch2") == flat / "nested"
    slug_only = tmp_path / "carol"
    (slug_only / "ex1_loss").mkdir(parents=True)
    assert submission.prepare(slug_only, tmp_path / "scratch3") == slug_only


def test_prepare_turns_archive_errors_into_submission_errors(tmp_path):
    z = _zip(tmp_path / "mallory.zip", {"../x.py": b""})
    with pytest.raises(submission.SubmissionError, match="leaves its folder"):
        submission.prepare(z, tmp_path / "scratch")
    with pytest.raises(submission.SubmissionError, match="neither a directory nor a .zip|no such file"):
        submission.prepare(tmp_path / "nothing.txt", tmp_path / "scratch")


def test_inspect_checks_like_extract_and_writes_nothing(tmp_path):
    from grader.archive import inspect

    z = _zip(tmp_path / "a.zip", {"alice/loss.py": b"x = 1\n", ".DS_Store": b"", "__MACOSX/._loss.py": b""})
    assert [p.as_posix() for p in inspect(z)] == ["alice/loss.py"]
    with pytest.raises(ArchiveError, match="leaves its folder"):
        inspect(_zip(tmp_path / "b.zip", {"../evil.py": b""}))
    with pytest.raises(ArchiveError, match="symbolic link"):
        inspect(_zip(tmp_path / "c.zip", {"loss.py": b""}, links={"x.py": "/etc/passwd"}))
    (tmp_path / "d.zip").write_bytes(b"nope")
    with pytest.raises(ArchiveError, match="not a valid zip"):
        inspect(tmp_path / "d.zip")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.zip", "b.zip", "c.zip", "d.zip"]


def test_inspect_stops_a_bomb_that_lies_about_its_sizes(tmp_path):
    from grader.archive import inspect

    z = _zip(tmp_path / "bomb.zip", {"loss.py": b"\0" * (3 << 20)})
    with pytest.raises(ArchiveError, match="limit"):
        inspect(z, ArchiveLimits(max_total_bytes=1 << 20))
    data = bytearray(z.read_bytes())  # claim 10 bytes in both headers
    data[22:26] = (10).to_bytes(4, "little")
    central = data.rfind(b"PK\x01\x02")
    data[central + 24:central + 28] = (10).to_bytes(4, "little")
    z.write_bytes(bytes(data))
    with pytest.raises(ArchiveError):
        inspect(z, ArchiveLimits(max_total_bytes=1 << 20))
