"""A stand-in for an HSM or KMS signing call in the signer test: it signs with a
key file named by an environment variable (ECDSA P-256, DER, as c2pa expects)."""
import os

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec


def sign(data: bytes) -> bytes:
    with open(os.environ["TEST_KMS_KEY"], "rb") as fh:
        key = serialization.load_pem_private_key(fh.read(), None)
    return key.sign(data, ec.ECDSA(hashes.SHA256()))
