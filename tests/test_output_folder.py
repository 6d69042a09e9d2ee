"""Nothing lost, ever: the output folder is replaced only when it holds a run of ours."""

from __future__ import annotations

import errno
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from connectivity import OutputError, run_to_folder
from connectivity.cli import main
from connectivity.outputs import write_outputs
from connectivity.outputs.folder import recover

from .conftest import SUBSET_SCENARIO


def _files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


def test_a_forged_run_json_cannot_get_a_file_of_yours_deleted(
    subset_results, tmp_path: Path
) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.docx").write_text("precious")
    forged = {"format": "connectivity-run/1", "files": ["run.json", "thesis.docx"]}
    (mine / "run.json").write_text(json.dumps(forged))
    with pytest.raises(OutputError, match=r"'thesis.docx'"):
        write_outputs(subset_results, mine)
    assert (mine / "thesis.docx").read_text() == "precious"


def test_a_symlink_to_your_folder_is_no_way_in(subset_results, tmp_path: Path) -> None:
    yours = tmp_path / "yours"
    yours.mkdir()
    (yours / "run.json").write_text("{}")
    (yours / "data.csv").write_text("a,b\n")
    link = tmp_path / "maps_link"
    link.symlink_to(yours)
    with pytest.raises(OutputError, match="never replaced"):
        write_outputs(subset_results, link)
    assert sorted(p.name for p in yours.iterdir()) == ["data.csv", "run.json"]
    # and a link inside a run folder is not taken for one of the run's files
    run = tmp_path / "run"
    write_outputs(subset_results, run)
    (run / "map.html").unlink()
    (run / "map.html").symlink_to(yours / "data.csv")
    with pytest.raises(OutputError, match=r"map\.html"):
        write_outputs(subset_results, run)
    assert (yours / "data.csv").read_text() == "a,b\n"


def test_the_destination_is_checked_before_any_work(
    subset_scenario, tmp_path: Path, caplog
) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("mine")
    with caplog.at_level("INFO"), pytest.raises(OutputError, match=r"notes\.txt"):
        run_to_folder(subset_scenario, mine)
    assert "stage territory" not in caplog.text  # refused before reading a single layer


def test_a_second_run_into_the_same_folder_is_refused_while_the_first_runs(
    subset_results, tmp_path: Path
) -> None:
    out = tmp_path / "run"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from filelock import FileLock; "
            f"l = FileLock({str(tmp_path / '.run.lock')!r}); l.acquire(); "
            "print('held', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(OutputError, match="another connectivity run is writing to this folder"):
            write_outputs(subset_results, out)
        assert not out.exists()
    finally:
        holder.kill()
        holder.wait()
        if holder.stdout is not None:
            holder.stdout.close()
    write_outputs(subset_results, out)  # the lock is free again
    assert (out / "run.json").is_file()


def test_a_swap_interrupted_between_its_two_moves_is_restored(
    subset_results, tmp_path: Path
) -> None:
    out = tmp_path / "run"
    write_outputs(subset_results, out)
    before = _files(out)
    old = tmp_path / ".run.old-x1"
    out.replace(old)  # killed after moving the earlier run aside, before the new one came in
    recover(out)
    assert _files(out) == before and not old.exists()
    stale = tmp_path / ".run.old-x2"
    stale.mkdir()
    (stale / "map.html").write_text("left over")
    recover(out)  # the run is in place: an orphaned .old folder is removed
    assert not stale.exists() and _files(out) == before


def test_a_full_disk_is_a_clear_error_and_earlier_outputs_stay(
    subset_results, tmp_path: Path, monkeypatch
) -> None:
    out = tmp_path / "run"
    write_outputs(subset_results, out)
    before = _files(out)
    from connectivity.outputs import figures

    def full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(figures, "write_atlas", full)
    with pytest.raises(OutputError, match="no space left on the disk while writing atlas"):
        write_outputs(subset_results, out)
    assert _files(out) == before
    assert not list(tmp_path.glob(".run.partial-*"))


def test_the_cli_turns_a_full_disk_into_exit_2(tmp_path: Path, monkeypatch, capsys) -> None:
    from connectivity.outputs import figures

    def full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(figures, "write_overview_png", full)
    code = main(["run", str(SUBSET_SCENARIO), "--out", str(tmp_path / "run"), "-q"])
    assert code == 2
    assert "no space left on the disk while writing map.png" in capsys.readouterr().err


def test_sigterm_unwinds_like_a_failure(tmp_path: Path) -> None:
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "connectivity.cli", "run", str(SUBSET_SCENARIO), "--out", str(out)]
    subprocess.run([*cmd, "-q"], check=True, capture_output=True)
    before = _files(out)
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    for line in proc.stderr:  # wait until it is writing its outputs
        if "stage gaps done" in line:
            break
    time.sleep(0.5)
    proc.send_signal(signal.SIGTERM)
    rest = proc.stderr.read()
    proc.stderr.close()
    assert proc.wait(timeout=60) in (0, 143)
    if proc.returncode == 143:  # terminated while writing: nothing half-written is left
        assert "terminated (SIGTERM); earlier outputs are unchanged" in rest
        assert _files(out) == before
    assert not list(tmp_path.glob(".run.partial-*"))
    assert any(out.iterdir())


def test_every_file_a_run_writes_is_one_the_folder_rules_know(subset_outputs: Path) -> None:
    """A new output must be added to the folder rules, or the next run refuses the folder."""
    from connectivity.outputs.folder import folder_files, is_output_name

    written = folder_files(subset_outputs)
    assert written and all(is_output_name(n) for n in written), [
        n for n in written if not is_output_name(n)
    ]
