"""Installs the wlcg_collector package with its `wlcg-collector` command,
the schema files, and the wlcg-package-reporter client script."""

import glob
import os
import re

from setuptools import setup

with open("wlcg_collector/__init__.py") as handle:
    VERSION = re.search(r'^__version__ = "([^"]+)"', handle.read(), re.M).group(1)

setup(
    name="wlcg-package-reporter",
    version=VERSION,
    description="Report installed packages of WLCG hosts, encrypted, to a central collector",
    license="Apache-2.0",
    packages=["wlcg_collector", "wlcg_collector.db", "wlcg_collector.advisories"],
    package_data={"wlcg_collector": ["templates/*.html", "static/*.css"]},
    scripts=["wlcg-package-reporter"],
    entry_points={"console_scripts": ["wlcg-collector = wlcg_collector.cli:main"]},
    data_files=[("share/wlcg-collector/" + os.path.dirname(path), [path])
                for path in sorted(glob.glob("sql/**/*.sql", recursive=True))]
    + [("share/wlcg-collector", ["collector.cgi", "wlcg-collector.wsgi"])],
    python_requires=">=3.9",
    # the officer's web pages need Jinja2
    install_requires=["Jinja2>=2.10"],
    # MySQL/MariaDB storage needs PyMySQL (SQLite needs nothing); the
    # officer's `adoption --plot` needs matplotlib; /metrics prometheus_client
    extras_require={"mysql": ["PyMySQL>=1.0"], "plot": ["matplotlib>=3.3"],
                    "metrics": ["prometheus_client>=0.16"]},
    classifiers=[
        "License :: OSI Approved :: Apache Software License",
        "Operating System :: POSIX :: Linux",
        "Programming Language :: Python :: 3",
    ],
)
