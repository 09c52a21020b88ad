"""`wlcg-collector keygen` in a directory another user could write, or
holding links planted there: the collector's private key is written
through a descriptor of keygen's own, never by openssl to a path, and a
directory others can write is refused. (The reporter's --make-site-key and
host key: test_reporter_signing.py.)"""

import os
import stat

import pytest

from helpers import run_cli
from wlcg_collector import crypto


def keygen(directory):
    return run_cli(["keygen", str(directory)])


def test_openssl_is_never_given_a_path_to_write(tmp_path, monkeypatch):
    """Neither the key nor the certificate: openssl writes both to a pipe,
    and the files are made 0600 and 0644 whatever the umask."""
    given = []
    real_run = crypto._run

    def spy(argv, *args, **kwargs):
        given.extend(argv)
        return real_run(argv, *args, **kwargs)
    monkeypatch.setattr(crypto, "_run", spy)
    directory = tmp_path / "keys"
    old_umask = os.umask(0o077)
    try:
        code, out, err = keygen(directory)
    finally:
        os.umask(old_umask)
    assert code == 0, err
    assert not [a for a in given if str(directory) in a or a in ("-keyout", "-out")], given
    key, cert = directory / "collector.key", directory / "collector.pem"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE(cert.stat().st_mode) == 0o644
    crypto.check_pair(str(key), str(cert))
    assert out == "key %s (mode 0600) and certificate %s written\n" % (key, cert)


def test_planted_links_are_refused_and_never_followed(tmp_path):
    directory = tmp_path / "keys"
    directory.mkdir()
    elsewhere = tmp_path / "elsewhere"
    (directory / "collector.pem").symlink_to(elsewhere)  # dangling
    code, out, err = keygen(directory)
    assert code == 1 and err.count("\n") == 1, err
    assert "%s exists (or is a symlink): move it away first" % (directory / "collector.pem") \
        in err
    assert not os.path.lexists(str(elsewhere))
    assert sorted(os.listdir(str(directory))) == ["collector.pem"]
    (directory / "collector.pem").unlink()
    victim = tmp_path / "victim"
    victim.write_text("not a key\n")
    victim.chmod(0o644)
    (directory / "collector.key").symlink_to(victim)
    code, out, err = keygen(directory)
    assert code == 1 and "collector.key exists (or is a symlink)" in err
    assert victim.read_text() == "not a key\n" and stat.S_IMODE(victim.stat().st_mode) == 0o644
    assert sorted(os.listdir(str(directory))) == ["collector.key"]


@pytest.mark.parametrize("mode", [0o777, 0o1777, 0o775, 0o757], ids="{:04o}".format)
def test_a_directory_others_can_write_is_refused(tmp_path, mode):
    directory = tmp_path / "keys"
    directory.mkdir()
    directory.chmod(mode)
    code, out, err = keygen(directory)
    assert code == 1 and err.count("\n") == 1, err
    assert ("%s is writable by group or others (mode %04o): another user could swap the key "
            "files there" % (directory, mode)) in err
    assert os.listdir(str(directory)) == []


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a directory to another user needs root")
def test_a_directory_of_another_user_is_refused(tmp_path):
    directory = tmp_path / "keys"
    directory.mkdir()
    os.chown(str(directory), 65534, 65534)
    code, out, err = keygen(directory)
    assert code == 1 and "%s belongs to uid 65534, neither root nor this user" % directory \
        in err
    assert os.listdir(str(directory)) == []


def test_a_pair_checked_once_is_checked_again_when_a_file_changes(tmp_path):
    """(create_app checks each pair: openssl, once a process.) A
    key replaced in place by another is found out all the same."""
    import shutil
    from helpers import make_key_pair
    from wlcg_collector import crypto
    key, cert = make_key_pair(tmp_path / "a")
    other_key, _ = make_key_pair(tmp_path / "b")
    crypto.check_pair(key, cert)
    crypto.check_pair(key, cert)  # (known: no openssl)
    shutil.copyfile(other_key, key)
    with pytest.raises(crypto.CryptoError) as caught:
        crypto.check_pair(key, cert)
    assert "does not belong to certificate" in str(caught.value)


def test_a_matching_pair_is_checked_with_one_openssl_run(tmp_path, monkeypatch):
    """The certificate's public key is read in Python and compared with the
    key's as openssl writes it: one openssl run (`openssl x509` alone takes
    some 40 ms, at the start of each `wlcg-collector ingest`); a pair that
    does not match is still refused, and one whose certificate cannot be
    read so is compared as openssl writes both."""
    from helpers import make_key_pair
    key, cert = make_key_pair(tmp_path / "a")
    other_key, other_cert = make_key_pair(tmp_path / "b")
    runs = []
    real = crypto._run
    monkeypatch.setattr(crypto, "_run", lambda argv, *a, **k: (runs.append(argv[1]),
                                                               real(argv, *a, **k))[1])
    crypto.check_pair(key, cert)
    assert runs == ["pkey"]
    with pytest.raises(crypto.CryptoError) as caught:
        crypto.check_pair(other_key, cert)
    assert "does not belong to certificate" in str(caught.value)
    del runs[:]
    with open(other_cert, "rb") as handle:  # the same certificate, text around it
        (tmp_path / "text.pem").write_bytes(b"Certificate:\n    (dumped)\n" + handle.read())
    crypto.check_pair(other_key, str(tmp_path / "text.pem"))
    assert runs == ["pkey"]
    (tmp_path / "der.pem").write_bytes(b"not PEM")
    with pytest.raises(crypto.CryptoError) as caught:
        crypto.check_pair(other_key, str(tmp_path / "der.pem"))
    assert "is not a PEM X.509 certificate" in str(caught.value)
