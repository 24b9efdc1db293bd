"""The README's Python API example runs as written (with a shorter training
and its outputs in a temporary folder)."""

import os
import re

from conftest import ROOT


def test_readme_api_example_runs(tmp_path, capsys):
    text = open(os.path.join(ROOT, "README.md")).read()
    code = re.search(r"<!-- api-example -->\s*```python\n(.*?)```", text, re.S).group(1)
    assert '"steps": 2000' in code and "runs/api" in code
    code = code.replace('"steps": 2000', '"steps": 30').replace("runs/api", str(tmp_path))
    exec(compile(code, "README.md (api-example)", "exec"), {})
    assert (tmp_path / "97017_x2.png").exists()
    assert (tmp_path / "abpn_x2" / "model.keras").exists()
    printed = capsys.readouterr().out
    assert "'psnr'" in printed and "mult_adds" in printed
