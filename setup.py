"""Packaging hook: the wheel carries compiled translations, templates and static files.

Everything else is declared in pyproject.toml. The .mo files are not in git; building
compiles them from the .po catalogs with Babel (a build requirement), so `pip install .`
serves every language with no other step. templates/ and static/ sit beside the package
in the repository and are copied into it (app/templates, app/static) in the wheel, where
create_app finds them.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
SHARED_FOLDERS = ("templates", "static")


def compile_catalogs(source: Path, target: Path) -> None:
    """Write target/<lang>/LC_MESSAGES/messages.mo for every source/<lang>/.../messages.po."""
    for po_path in sorted(source.glob("*/LC_MESSAGES/*.po")):
        mo_path = target / po_path.relative_to(source).with_suffix(".mo")
        mo_path.parent.mkdir(parents=True, exist_ok=True)
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file, locale=po_path.parent.parent.name)
        with mo_path.open("wb") as mo_file:
            write_mo(mo_file, catalog)


class BuildPy(build_py):
    def run(self) -> None:
        super().run()
        translations = HERE / "app" / "translations"
        if self.editable_mode:
            # An editable install runs the source tree: compile in place (ignored by git).
            compile_catalogs(translations, translations)
            return
        package = Path(self.build_lib) / "app"
        compile_catalogs(translations, package / "translations")
        for name in SHARED_FOLDERS:
            shutil.copytree(HERE / name, package / name, dirs_exist_ok=True)


setup(cmdclass={"build_py": BuildPy})
