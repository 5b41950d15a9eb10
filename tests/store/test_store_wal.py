"""The WAL's crash and corruption handling: torn tails are cut, damaged frames are reported or repaired.

Whatever is cut off is kept in a side file; the file header's checksum tells corruption from a newer format.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.store.builders import entity, statement

from sutra.errors import ConfigError, CorruptionError, InputError
from sutra.model import PutConcept
from sutra.store import LocalStore, wal
from sutra.store.codec import mutation_to_dict


def fill(store: LocalStore, n: int) -> None:
    for i in range(n):
        store.apply([PutConcept(entity(f"E{i}", "d"))])


def frame_offsets(path: Path) -> list[int]:
    return [f.offset for f in wal.scan(path.read_bytes()).frames]


def side_files(directory: Path, label: str) -> list[Path]:
    return sorted(directory.glob(f"wal.log.{label}-*"))


@pytest.fixture
def closed_wal(open_store, tmp_path) -> Path:
    store = open_store()
    fill(store, 5)
    store.close()
    return tmp_path / "db" / "wal.log"


@pytest.mark.parametrize("cut", [1, 5, 12, 20])
def test_a_torn_tail_is_cut_with_a_warning(closed_wal, open_store, caplog, cut):
    last = frame_offsets(closed_wal)[-1]
    data = closed_wal.read_bytes()
    closed_wal.write_bytes(data[: last + cut])  # the last frame was only partly written
    with caplog.at_level(logging.WARNING, logger="sutra.store"):
        store = open_store()
    assert "torn tail" in caplog.text
    [kept] = side_files(closed_wal.parent, "torn")  # D6: the cut bytes are kept as evidence
    assert kept.read_bytes() == data[last : last + cut] and str(kept) in caplog.text
    assert store.recovery.saved_tails == [str(kept)]
    assert [c.text for c in store.concepts()] == ["E0", "E1", "E2", "E3"]
    assert store.recovery.torn_bytes == cut and closed_wal.stat().st_size == last
    store.apply([PutConcept(entity("New", "d"))])  # appending after the cut works and survives a reopen
    store.close()
    assert [c.text for c in open_store().concepts()] == ["E0", "E1", "E2", "E3", "New"]


def test_a_zero_filled_tail_is_a_torn_write(closed_wal, open_store):
    with closed_wal.open("ab") as f:
        f.write(b"\0" * 100)
    store = open_store()
    assert len(store.concepts()) == 5 and store.recovery.torn_bytes == 100
    assert store.check() == []


def test_a_flipped_byte_in_the_last_frame_is_detected(closed_wal, tmp_path):
    last = frame_offsets(closed_wal)[-1]
    data = bytearray(closed_wal.read_bytes())
    data[last + 20] ^= 0x01  # inside the payload of the last complete frame
    closed_wal.write_bytes(bytes(data))
    with pytest.raises(CorruptionError) as info:
        LocalStore(tmp_path / "db")
    message = str(info.value)
    assert str(closed_wal) in message and f"offset {last}" in message and "repair=True" in message
    assert closed_wal.read_bytes() == bytes(data)  # detection alone never changes the file


def test_a_flipped_length_is_corruption_not_a_torn_tail(closed_wal, tmp_path):
    last = frame_offsets(closed_wal)[-1]
    data = bytearray(closed_wal.read_bytes())
    data[last + 2] ^= 0x10  # the length now points far past the end of the file
    closed_wal.write_bytes(bytes(data))
    with pytest.raises(CorruptionError, match="header checksum"):
        LocalStore(tmp_path / "db")


def test_a_flipped_length_counts_every_batch_a_repair_drops(closed_wal, open_store):
    offsets = frame_offsets(closed_wal)
    data = bytearray(closed_wal.read_bytes())
    data[offsets[2] + 1] ^= 0x04  # third of five frames: its length is unknown, the two after it are intact
    closed_wal.write_bytes(bytes(data))
    with pytest.raises(CorruptionError) as info:
        LocalStore(closed_wal.parent)
    assert f"({len(data) - offsets[2]} bytes: 3 batch(es)" in str(info.value)
    store = open_store(repair=True)
    assert store.recovery.repaired_frames == 3 and [c.text for c in store.concepts()] == ["E0", "E1"]
    assert store.check() == []


def test_repair_truncates_at_the_first_bad_frame_and_reports(closed_wal, open_store, caplog):
    offsets = frame_offsets(closed_wal)
    size = closed_wal.stat().st_size
    data = bytearray(closed_wal.read_bytes())
    data[offsets[2] + 15] ^= 0xFF  # damage the third of five frames
    closed_wal.write_bytes(bytes(data))
    with caplog.at_level(logging.WARNING, logger="sutra.store"):
        store = open_store(repair=True)
    assert "repair dropped" in caplog.text
    [kept] = side_files(closed_wal.parent, "dropped")  # D6: a copy of everything dropped, named in the log
    assert kept.read_bytes() == bytes(data[offsets[2] :]) and str(kept) in caplog.text
    assert store.recovery.saved_tails == [str(kept)]
    assert store.recovery.repaired_bytes == size - offsets[2]
    assert store.recovery.repaired_frames == 3  # the bad frame and the two after it
    assert [c.text for c in store.concepts()] == ["E0", "E1"]
    store.apply([PutConcept(entity("New", "d"))])
    assert store.stats()["lsn"] == 3
    assert store.check() == []


def test_a_wal_that_is_not_a_wal_is_refused(closed_wal, tmp_path):
    closed_wal.write_bytes(b"hello world, definitely not a log")
    with pytest.raises(CorruptionError, match="WAL header"):
        LocalStore(tmp_path / "db")


@pytest.mark.parametrize("bit", [0, 1, 4, 7])
def test_a_flipped_bit_in_the_header_version_is_corruption_not_a_newer_format(closed_wal, tmp_path, bit):
    data = bytearray(closed_wal.read_bytes())
    data[8] ^= 1 << bit  # U2: this used to say "newer than this Sutra reads; upgrade"
    closed_wal.write_bytes(bytes(data))
    with pytest.raises(CorruptionError, match="damaged file header"):
        LocalStore(tmp_path / "db")


def test_a_genuinely_newer_wal_asks_for_an_upgrade(closed_wal, tmp_path):
    data = closed_wal.read_bytes()
    closed_wal.write_bytes(wal.file_header(version=2) + data[wal.FILE_HEADER.size :])
    with pytest.raises(ConfigError, match="upgrade Sutra"):
        LocalStore(tmp_path / "db")


def test_a_wal_from_before_the_header_checksum_still_opens(closed_wal, open_store, tmp_path):
    data = bytearray(closed_wal.read_bytes())
    data[12:16] = bytes(4)  # the field was a reserved zero in files written before the checksum
    closed_wal.write_bytes(bytes(data))
    store = open_store()
    assert len(store.concepts()) == 5
    store.apply([PutConcept(entity("New", "d"))])
    assert store.check() == []
    store.close()
    data[8] ^= 0x02  # in such a header a damaged version is still caught: only version 1 was ever unchecked
    closed_wal.write_bytes(bytes(data))
    with pytest.raises(CorruptionError, match="damaged file header"):
        LocalStore(tmp_path / "db")


def test_frames_must_have_increasing_lsns(tmp_path):
    path = tmp_path / "wal.log"
    wal.create(path)
    with path.open("ab") as f:
        for lsn in (1, 2, 2):
            f.write(wal.encode_frame(wal.encode_payload(lsn, [])))
    result = wal.scan(path.read_bytes())
    assert result.problem == "corrupt" and "LSN 2 does not follow LSN 2" in result.reason
    assert len(result.frames) == 2


@given(st.lists(st.binary(max_size=200), max_size=8))
def test_frame_codec_round_trips(payloads):
    image = wal.file_header()
    for lsn, body in enumerate(payloads, start=1):
        image += wal.encode_frame(
            wal.encode_payload(lsn, [{"op": "forget_source", "source": body.hex() or "x"}])
        )
    result = wal.scan(image)
    assert result.problem is None and result.valid_end == len(image)
    assert [f.lsn for f in result.frames] == list(range(1, len(payloads) + 1))
    assert [f.mutations[0].source_id for f in result.frames] == [b.hex() or "x" for b in payloads]


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400), st.sampled_from(["none", "current", "legacy"]))
def test_random_bytes_only_ever_raise_corruption(tmp_path_factory, junk, header_kind):
    path = tmp_path_factory.mktemp("fuzz") / "wal.log"
    legacy = wal.FILE_HEADER.pack(wal.FILE_MAGIC, wal.WAL_VERSION, 0)
    header = {"none": b"", "current": wal.file_header(), "legacy": legacy}[header_kind]
    path.write_bytes(header + junk)
    try:
        wal.recover(path, repair=False)
    except CorruptionError:
        return
    assert wal.scan(path.read_bytes()).problem is None  # whatever was accepted, a torn tail was cut off


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_damage_anywhere_in_a_real_wal_is_reported_or_cut_at_the_tail(closed_wal_bytes, data):
    image = bytearray(closed_wal_bytes)
    pos = data.draw(st.integers(wal.FILE_HEADER.size, len(image) - 1))
    image[pos] ^= data.draw(st.integers(1, 255))
    result = wal.scan(bytes(image))
    # crc32 catches every single-byte error, and the damaged frame is complete: never mistaken for a torn tail
    assert result.problem == "corrupt"
    assert result.valid_end <= pos  # every frame handed back lies wholly before the damage
    # and a repair's count is exact: the damaged frame plus every (intact) frame after it
    starts = [f.offset for f in wal.scan(closed_wal_bytes).frames]
    damaged = max(i for i, start in enumerate(starts) if start <= pos)
    assert 1 + result.frames_after_bad == len(starts) - damaged


@pytest.fixture(scope="module")
def closed_wal_bytes(tmp_path_factory) -> bytes:
    directory = tmp_path_factory.mktemp("walbytes")
    with LocalStore(directory / "db", fsync="off") as store:
        fill(store, 6)
    return (directory / "db" / "wal.log").read_bytes()


def test_a_gap_in_the_lsns_after_the_snapshot_is_corruption(open_store, tmp_path):
    store = open_store()
    fill(store, 3)
    store.checkpoint()
    store.close()
    path = tmp_path / "db" / "wal.log"
    with path.open("ab") as f:  # a frame that claims LSN 5 right after a snapshot at LSN 3
        f.write(wal.encode_frame(wal.encode_payload(5, [{"op": "forget_source", "source": "d"}])))
    with pytest.raises(CorruptionError, match=r"batches 4\.\.4 are missing"):
        LocalStore(tmp_path / "db")
    store = open_store(repair=True)
    assert store.recovery.repaired_frames == 1 and len(store.concepts()) == 3
    [kept] = side_files(tmp_path / "db", "dropped")
    assert store.recovery.saved_tails == [str(kept)] and kept.stat().st_size > 0
    assert store.check() == []


def test_a_batch_too_large_for_one_frame_is_refused_before_it_is_applied(tmp_path, monkeypatch):
    monkeypatch.setattr(wal, "MAX_FRAME", 4096)  # the real bound is 2 GiB
    with LocalStore(tmp_path / "db") as store:
        store.apply([PutConcept(statement("small", "d"))])
        with pytest.raises(InputError, match="split it into smaller batches"):
            store.apply([PutConcept(statement("x" * 5000, "d"))])
        assert store.stats()["concepts"] == 1 and store.check() == []
    with LocalStore(tmp_path / "db") as store:
        assert store.stats()["concepts"] == 1


def test_a_frame_whose_checksum_matches_but_records_do_not_is_reported_and_repairable(tmp_path):
    with LocalStore(tmp_path / "db") as store:
        fill(store, 2)
        lsn = store.stats()["lsn"]
    bad = replace(entity("E9", "d"), text=None)  # as an edit that recomputed the checksum would leave it
    payload = wal.encode_payload(lsn + 1, [mutation_to_dict(PutConcept(bad))])
    with open(tmp_path / "db" / "wal.log", "ab") as f:
        f.write(wal.encode_frame(payload))
    with pytest.raises(CorruptionError, match="a record holds a value no store writes"):
        LocalStore(tmp_path / "db")
    with LocalStore(tmp_path / "db", repair=True) as store:
        assert store.stats()["concepts"] == 2 and store.check() == []
