"""The platform's signing chain: a CA (the trust anchor auditors configure) and a
document-signing leaf certificate, minted with `cryptography`.

c2pa-rs refuses a self-signed leaf, so the leaf is issued by the CA and carries
digitalSignature, an emailProtection/documentSigning EKU, O=, AKI and SKI.
Keys are written 0600 in a 0700 folder that lives outside the repository.
"""
from __future__ import annotations

import datetime as dt
import importlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path

import c2pa
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_CERT, CA_KEY = "ca.pem", "ca.key"
SIGNER_CHAIN, SIGNER_KEY = "signer.pem", "signer.key"
DOCUMENT_SIGNING = x509.ObjectIdentifier("1.3.6.1.5.5.7.3.36")


class SigningError(RuntimeError):
    pass


@dataclass(frozen=True)
class SigningMaterial:
    chain_pem: bytes      # leaf first, then the CA
    key_pem: bytes
    ca_pem: bytes
    algorithm: str = "es256"

    @property
    def issuer(self) -> str:
        leaf = x509.load_pem_x509_certificate(self.chain_pem)
        return leaf.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value


def _name(cn: str, org: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, org)])


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.chmod(path, 0o600)


def mint_platform_chain(directory: str | os.PathLike, *, organization: str = "Veritalk",
                        overwrite: bool = False, leaf_days: int = 825) -> Path:
    """Create the CA and signing certificate in `directory`; return the folder."""
    d = Path(directory).expanduser()
    if (d / SIGNER_KEY).exists() and not overwrite:
        raise SigningError(f"signing material already exists in {d}; pass overwrite to replace it")
    d.mkdir(parents=True, exist_ok=True)
    os.chmod(d, 0o700)
    now = dt.datetime.now(dt.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name(f"{organization} Root CA", organization)
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=3650))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                       data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                       crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (x509.CertificateBuilder().subject_name(_name(f"{organization} Content Signer", organization))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=leaf_days))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                         crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION, DOCUMENT_SIGNING]),
                           critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    pem = lambda c: c.public_bytes(serialization.Encoding.PEM)
    private = lambda k: k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption())
    (d / CA_CERT).write_bytes(pem(ca))
    (d / SIGNER_CHAIN).write_bytes(pem(leaf) + pem(ca))
    _write_private(d / CA_KEY, private(ca_key))
    _write_private(d / SIGNER_KEY, private(key))
    return d


def load_signing_material(directory: str | os.PathLike) -> SigningMaterial:
    d = Path(directory).expanduser()
    key_path = d / SIGNER_KEY
    if not key_path.exists():
        raise SigningError(f"no signing key in {d}; run `python manage.py init_signing` first")
    mode = stat.S_IMODE(key_path.stat().st_mode)
    if mode & 0o077:
        raise SigningError(f"{key_path} is readable by others (mode {mode:o}); chmod 600 it")
    return SigningMaterial(chain_pem=(d / SIGNER_CHAIN).read_bytes(), key_pem=key_path.read_bytes(),
                           ca_pem=(d / CA_CERT).read_bytes())


def load_trust_anchor(directory: str | os.PathLike) -> bytes:
    """The CA certificate alone (public): what verification trusts."""
    path = Path(directory).expanduser() / CA_CERT
    if not path.exists():
        raise SigningError(f"no platform CA certificate at {path}; run `python manage.py init_signing`")
    return path.read_bytes()


# ----------------------------------------------------------- production signers ----

@dataclass(frozen=True)
class SignerConfig:
    """Which key signs manifests. `platform`: the init_signing chain in a folder.
    `certificate`: a deployment's own PEM chain (leaf first) and private key.
    `callback`: a deployment's own chain, and a function `module:name` that signs
    the bytes c2pa hands it (an HSM or a cloud KMS); no private key on disk."""
    kind: str = "platform"
    directory: str | None = None          # platform
    chain_path: str | None = None         # certificate, callback
    key_path: str | None = None           # certificate
    callback: str | None = None           # callback: "package.module:function"
    algorithm: str = "es256"
    tsa_url: str | None = None


KINDS = ("platform", "certificate", "callback")


def _import_callable(spec: str):
    module, _, name = spec.partition(":")
    if not module or not name:
        raise SigningError(f"signing callback {spec!r} must read 'package.module:function'")
    try:
        fn = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        raise SigningError(f"signing callback {spec!r} cannot be imported: {exc}") from exc
    if not callable(fn):
        raise SigningError(f"signing callback {spec!r} is not callable")
    return fn


def _read(path: str | None, what: str) -> bytes:
    if not path:
        raise SigningError(f"the signer needs {what}")
    p = Path(path).expanduser()
    if not p.is_file():
        raise SigningError(f"{what} not found at {p}")
    return p.read_bytes()


def signer_chain(config: SignerConfig) -> bytes:
    """The certificate chain (PEM, leaf first) the configured signer signs with."""
    if config.kind == "platform":
        return load_signing_material(config.directory or "").chain_pem
    return _read(config.chain_path, "a certificate chain (VERITALK_C2PA_CERT_CHAIN)")


def make_signer(config: SignerConfig):
    """A fresh c2pa.Signer for one signing (c2pa consumes it)."""
    if config.kind not in KINDS:
        raise SigningError(f"unknown signer kind {config.kind!r}; use one of {', '.join(KINDS)}")
    if config.kind == "platform":
        m = load_signing_material(config.directory or "")
        return c2pa.Signer.from_info(c2pa.C2paSignerInfo(m.algorithm, m.chain_pem, m.key_pem, config.tsa_url))
    chain = signer_chain(config)
    if config.kind == "certificate":
        key_path = Path(config.key_path or "").expanduser()
        key = _read(config.key_path, "a private key (VERITALK_C2PA_KEY)")
        if stat.S_IMODE(key_path.stat().st_mode) & 0o077:
            raise SigningError(f"{key_path} is readable by others; chmod 600 it")
        return c2pa.Signer.from_info(c2pa.C2paSignerInfo(config.algorithm, chain, key, config.tsa_url))
    fn = _import_callable(config.callback or "")
    alg = getattr(c2pa.C2paSigningAlg, config.algorithm.upper(), None)
    if alg is None:
        raise SigningError(f"unknown signing algorithm {config.algorithm!r}")
    return c2pa.Signer.from_callback(fn, alg, chain.decode(), config.tsa_url)
