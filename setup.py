"""Installs the wlcg-package-reporter client script."""

import re

from setuptools import setup

with open("wlcg-package-reporter") as handle:
    VERSION = re.search(r'^VERSION = "([^"]+)"', handle.read(), re.M).group(1)

setup(
    name="wlcg-package-reporter",
    version=VERSION,
    description="Report installed packages of WLCG hosts, encrypted, to a central collector",
    license="Apache-2.0",
    scripts=["wlcg-package-reporter"],
    python_requires=">=3.6",
    classifiers=[
        "License :: OSI Approved :: Apache Software License",
        "Operating System :: POSIX :: Linux",
        "Programming Language :: Python :: 3",
    ],
)
