"""The tour notebook runs top to bottom (in a temporary copy) and is committed clean."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "01_quickstart.ipynb"

needs_kernel = pytest.mark.skipif(
    importlib.util.find_spec("ipykernel") is None or importlib.util.find_spec("nbclient") is None,
    reason="ipykernel and nbclient are needed to execute the notebook (pip install -e '.[test]')",
)


def test_notebook_is_committed_without_outputs() -> None:
    import nbformat

    nb = nbformat.read(NOTEBOOK, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None


@needs_kernel
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.filterwarnings("ignore::ResourceWarning")
def test_notebook_runs(tmp_path: Path) -> None:
    import nbformat
    from nbclient import NotebookClient

    copy = tmp_path / NOTEBOOK.name
    shutil.copy(NOTEBOOK, copy)
    nb = nbformat.read(copy, as_version=4)
    client = NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()  # raises CellExecutionError on the first failing cell
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) >= 3  # the charts were drawn
    streams = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "missing from" not in streams  # no glyph warnings printed by the kernel
