"""The reporter's pure functions, on real package lists captured from EL7/8/9,
Debian and Ubuntu machines (tests/fixtures/manifests, see SOURCES.md there)."""

import os

import pytest

from helpers import FIXTURES, load_reporter

reporter = load_reporter()
MANIFESTS = os.path.join(FIXTURES, "manifests")


def manifest_lines(name):
    with open(os.path.join(MANIFESTS, name)) as handle:
        return [line for line in handle.read().splitlines() if line.strip()]


def as_rpm_queryformat(lines):
    """`NAME VERSION-RELEASE` lines as rpm prints them with the reporter's
    query format: no epoch is recorded in these images, so rpm prints (none)."""
    out = []
    for line in lines:
        name, vr = line.split(" ")
        arch = "(none)" if name == "gpg-pubkey" else "x86_64"
        out.append("%s\t(none):%s\t%s" % (name, vr, arch))
    return "\n".join(out) + "\n"


@pytest.mark.parametrize("manifest,pubkeys", [
    ("cms-cc7-wn-x86_64.txt", 3),
    ("cms-el8-grid-x86_64.txt", None),
    ("cms-el9-grid-x86_64.txt", None),
])
def test_rpm_output_of_real_el_images(manifest, pubkeys):
    lines = manifest_lines(manifest)
    keys = [line for line in lines if line.startswith("gpg-pubkey ")]
    if pubkeys is not None:
        assert len(keys) == pubkeys
    packages = reporter.parse_rpm_output(as_rpm_queryformat(lines))
    assert len(packages) == len(lines) - len(keys)
    assert all(name != "gpg-pubkey" for name, _, _ in packages)
    assert all(evr.startswith("0:") for _, evr, _ in packages)
    assert packages == sorted(packages)
    by_name = {name: evr for name, evr, _ in packages}
    if "el9" in manifest:
        assert by_name["xrootd-client"] == "0:5.9.2-1.el9"
    if "cc7" in manifest:
        assert by_name["voms-clients-cpp"] == "0:2.1.0-0.35.rc5.el7"


def test_rpm_output_of_centos7_nevra_list():
    # name-version-release.arch, split the way rpm's own fields are.
    lines = manifest_lines("centos7-official-image-nevra.txt")
    rows = []
    for nevra in lines:
        rest, arch = nevra.rsplit(".", 1)
        name, version, release = rest.rsplit("-", 2)
        rows.append("%s\t(none):%s-%s\t%s" % (name, version, release, arch))
    packages = reporter.parse_rpm_output("\n".join(reversed(rows)) + "\n")
    assert len(packages) == 148
    assert packages[0] == ("acl", "0:2.2.51-15.el7", "x86_64")
    assert ("basesystem", "0:10.0-7.el7.centos", "noarch") in packages


def test_rpm_output_keeps_epochs_and_duplicate_names():
    text = ("kernel\t(none):3.10.0-1160.el7\tx86_64\n"
            "kernel\t(none):3.10.0-1160.119.1.el7\tx86_64\n"
            "glibc\t(none):2.17-326.el7_9\ti686\n"
            "glibc\t(none):2.17-326.el7_9\tx86_64\n"
            "shadow-utils\t2:4.6-5.el7\tx86_64\n"
            "gpg-pubkey\t(none):f4a80eb5-53a7ff4b\t(none)\n")
    assert reporter.parse_rpm_output(text) == [
        ("glibc", "0:2.17-326.el7_9", "i686"),
        ("glibc", "0:2.17-326.el7_9", "x86_64"),
        ("kernel", "0:3.10.0-1160.119.1.el7", "x86_64"),
        ("kernel", "0:3.10.0-1160.el7", "x86_64"),
        ("shadow-utils", "2:4.6-5.el7", "x86_64"),
    ]


@pytest.mark.parametrize("line", ["bash 0:5.1-1 x86_64", "bash\t0:5.1-1", "\t0:1-1\tx86_64"])
def test_rpm_output_with_a_malformed_line_is_an_error(line):
    with pytest.raises(reporter.CollectError) as err:
        reporter.parse_rpm_output(line + "\n")
    assert "line 1" in str(err.value)


def test_dpkg_output_of_a_real_debian_host():
    # `dpkg -l` columns: status, name[:arch], version, arch, description.
    rows = []
    statuses = {}
    for line in manifest_lines("debian8-host-dpkg-l.txt"):
        status, name, version, arch = line.split()[:4]
        statuses[status] = statuses.get(status, 0) + 1
        rows.append("%s \t%s\t%s\t%s" % (status, name.split(":")[0], version, arch))
    assert statuses == {"ii": 569, "rc": 4}
    packages = reporter.parse_dpkg_output("\n".join(rows) + "\n")
    assert len(packages) == 569
    names = {name for name, _, _ in packages}
    assert not any(name.startswith("exim4") for name in names)  # the rc ones
    assert ("acpid", "1:2.0.23-2", "amd64") in packages
    assert packages == sorted(packages)


def test_dpkg_output_of_ubuntu_image_keeps_epochs_and_drops_arch_qualifier():
    rows = []
    for line in manifest_lines("ubuntu-jammy-oci-amd64-dpkg-query.txt"):
        name, version = line.split("\t")
        arch = name.split(":")[1] if ":" in name else "all"
        rows.append("ii \t%s\t%s\t%s" % (name, version, arch))
    packages = reporter.parse_dpkg_output("\n".join(rows) + "\n")
    assert len(packages) == 101
    assert ("bsdutils", "1:2.37.2-4ubuntu3", "all") in packages
    assert all(":" not in name for name, _, _ in packages)


def test_dpkg_status_letters():
    text = ("ii \tinstalled\t1.0-1\tamd64\n"
            "hi \theld\t2.0-1\tamd64\n"
            "rc \tremoved\t1.0-1\tamd64\n"
            "un \tunknown\t\tamd64\n"
            "iU \tunpacked\t1.0-1\tamd64\n"
            "iF \thalfconf\t1.0-1\tamd64\n")
    assert reporter.parse_dpkg_output(text) == [
        ("held", "2.0-1", "amd64"), ("installed", "1.0-1", "amd64")]


def test_system_name_from_os_release_and_redhat_release():
    alma = 'NAME="AlmaLinux"\nVERSION="9.4 (Seafoam Ocelot)"\nID="almalinux"\nVERSION_ID="9.4"\n'
    assert reporter.system_name(alma, "AlmaLinux release 9.4 (Seafoam Ocelot)\n") == "AlmaLinux 9.4"
    debian = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\n'
    assert reporter.system_name(debian, None) == "Debian GNU/Linux 12"
    assert reporter.system_name('PRETTY_NAME="Debian GNU/Linux trixie/sid"\nNAME="Debian GNU/Linux"\n',
                                None) == "Debian GNU/Linux trixie/sid"
    assert reporter.system_name(None, "CentOS release 6.10 (Final)\n") == "CentOS release 6.10 (Final)"
    assert reporter.system_name(None, None) == "unknown"


def test_format_report_is_protocol_5():
    text = reporter.format_report(
        {"site": "T2_EXAMPLE", "host": "wn042.example.org", "arch": "x86_64",
         "system": "AlmaLinux\t9.4\x07"},
        [("bash", "0:5.1.8-9.el9", "x86_64")]).decode()
    assert text == ("#\narch: x86_64\nhost: wn042.example.org\nsite: T2_EXAMPLE\n"
                    "system: AlmaLinux 9.4\n#\nbash\t0:5.1.8-9.el9\tx86_64\n#\n")


def test_backoff_is_exponential_from_one_second_capped_with_jitter():
    assert reporter.backoff_delay(1, rand=lambda: 0.0) == 1.0
    assert reporter.backoff_delay(2, rand=lambda: 0.0) == 2.0
    assert reporter.backoff_delay(3, rand=lambda: 1.0) == 6.0
    assert reporter.backoff_delay(20, rand=lambda: 1.0) == reporter.BACKOFF_CAP
    assert reporter.backoff_delay(1, retry_after=5, rand=lambda: 0.0) == 5
    assert reporter.backoff_delay(1, retry_after=10 ** 6, rand=lambda: 0.0) == reporter.BACKOFF_CAP


def test_retry_after_header_forms():
    assert reporter.parse_retry_after("7") == 7.0
    assert reporter.parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470) == 10.0
    assert reporter.parse_retry_after("soon") is None
    assert reporter.parse_retry_after(None) is None


def test_report_url_adds_protocol():
    assert reporter.report_url("https://c.example.org/") == "https://c.example.org/?protocol=5"
    assert (reporter.report_url("http://c.example.org/r?site=x&protocol=4")
            == "http://c.example.org/r?site=x&protocol=5")


def test_source_package_fields():
    """rpm's %{SOURCERPM} and dpkg's ${Source} give the fourth field."""
    text = ("python3-libs\t(none):3.9.18-3.el9_4.5\tx86_64\tpython3.9-3.9.18-3.el9_4.5.src.rpm\n"
            "gpg-pubkey\t(none):f4a80eb5-53a7ff4b\t(none)\t(none)\n"
            "fake\t(none):1-1\tnoarch\t(none)\n"
            "firmware\t(none):1-1\tnoarch\tfirmware-1-1.nosrc.rpm\n")
    assert reporter.parse_rpm_output(text) == [
        ("fake", "0:1-1", "noarch", ""),
        ("firmware", "0:1-1", "noarch", "firmware"),
        ("python3-libs", "0:3.9.18-3.el9_4.5", "x86_64", "python3.9")]
    text = ("ii \tlibc6\t2.36-9+deb12u4\tamd64\tglibc\n"
            "ii \tbash\t5.2.15-2+b2\tamd64\tbash (5.2.15-2)\n"
            "ii \tcoreutils\t9.1-1\tamd64\t\n")
    assert reporter.parse_dpkg_output(text) == [
        ("bash", "5.2.15-2+b2", "amd64", "bash"), ("coreutils", "9.1-1", "amd64", "coreutils"),
        ("libc6", "2.36-9+deb12u4", "amd64", "glibc")]


def test_format_2_names_sources_and_format_1_does_not():
    packages = [("fake", "0:1-1", "noarch", ""), ("libc6", "2.36-9", "amd64", "glibc")]
    two = reporter.format_report({"site": "S", "version": "2"}, packages).decode()
    assert two.endswith("#\nfake\t0:1-1\tnoarch\nlibc6\t2.36-9\tamd64\tglibc\n#\n")
    one = reporter.format_report({"site": "S", "version": "1"}, packages).decode()
    assert one.endswith("#\nfake\t0:1-1\tnoarch\nlibc6\t2.36-9\tamd64\n#\n")
