"""Lists the package's subpackages from the folders themselves, so a new one cannot be left out of the wheel.

The repository root is the package `worldkit` (package-dir in pyproject.toml), which setuptools' own discovery
cannot express; everything else lives in pyproject.toml.
"""

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

SHIPPED_FOLDERS = ("headless", "models", "nodes")


class BuildPackage(build_py):
    """Leaves this script out: it sits in the package's folder but is no module of the pack."""

    def find_package_modules(self, package: str, package_dir: str) -> list[tuple[str, str, str]]:
        return [
            entry for entry in super().find_package_modules(package, package_dir) if entry[:2] != (package, "setup")
        ]


setup(
    packages=[
        "worldkit",
        *(f"worldkit.{name}" for name in find_packages(include=[f"{top}*" for top in SHIPPED_FOLDERS])),
    ],
    cmdclass={"build_py": BuildPackage},
)
