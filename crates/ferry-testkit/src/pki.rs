//! Certificates and keys made with rcgen: a CA + server leaf for TLS registries, and the
//! self-signed signing certificate of the token realm.

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};

/// PEM files for a TLS registry: a CA and a leaf signed by it.
#[derive(Debug, Clone)]
pub struct TlsMaterial {
    /// The CA certificate (PEM); trust this one.
    pub ca_pem: String,
    /// The server certificate (PEM): not a CA, EKU serverAuth, SAN IP 127.0.0.1 + DNS localhost.
    pub leaf_pem: String,
    /// The server's private key (PKCS#8 PEM).
    pub leaf_key_pem: String,
    /// A client identity the registry demands (`http.tls.clientcas`), if any.
    pub client: Option<ClientIdentity>,
}

/// A client certificate, its key and the CA that signed it (the registry's `clientcas`).
#[derive(Debug, Clone)]
pub struct ClientIdentity {
    /// The client CA certificate (PEM).
    pub ca_pem: String,
    /// The client certificate (PEM), EKU clientAuth.
    pub cert_pem: String,
    /// The client's private key (PKCS#8 PEM).
    pub key_pem: String,
}

/// Makes a fresh client CA and a client certificate signed by it.
pub fn client_identity() -> ClientIdentity {
    let ca_key = KeyPair::generate().expect("generate client CA key");
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("client CA params");
    ca_params.distinguished_name = dn("ferry-testkit client CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca_cert = ca_params.self_signed(&ca_key).expect("self-sign client CA");
    let issuer = Issuer::new(ca_params, ca_key);
    let key = KeyPair::generate().expect("generate client key");
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("client params");
    params.distinguished_name = dn("ferry-testkit client");
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    let cert = params
        .signed_by(&key, &issuer)
        .expect("sign client certificate");
    ClientIdentity {
        ca_pem: ca_cert.pem(),
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    }
}

fn dn(common_name: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, common_name);
    dn.push(DnType::OrganizationName, "ferry-testkit");
    dn
}

/// Makes a fresh CA and a loopback server certificate signed by it.
pub fn tls_material() -> TlsMaterial {
    let ca_key = KeyPair::generate().expect("generate CA key");
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca_params.distinguished_name = dn("ferry-testkit CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca_cert = ca_params.self_signed(&ca_key).expect("self-sign CA");
    let issuer = Issuer::new(ca_params, ca_key);

    let leaf_key = KeyPair::generate().expect("generate leaf key");
    let mut leaf_params =
        CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])
            .expect("leaf params");
    leaf_params.distinguished_name = dn("localhost");
    leaf_params.is_ca = IsCa::ExplicitNoCa;
    leaf_params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    leaf_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let leaf_cert = leaf_params
        .signed_by(&leaf_key, &issuer)
        .expect("sign leaf certificate");

    TlsMaterial {
        ca_pem: ca_cert.pem(),
        leaf_pem: leaf_cert.pem(),
        leaf_key_pem: leaf_key.serialize_pem(),
        client: None,
    }
}

/// The token realm's signing identity: an ECDSA P-256 key and its self-signed certificate.
pub struct SigningIdentity {
    /// ring key used to sign JWTs (ES256, fixed-size r||s signatures).
    pub key: ring::signature::EcdsaKeyPair,
    /// DER of the certificate (goes into the JWT `x5c` header).
    pub cert_der: Vec<u8>,
    /// PEM of the certificate (the registry's `rootcertbundle`).
    pub cert_pem: String,
}

impl std::fmt::Debug for SigningIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningIdentity")
            .field("cert_der_len", &self.cert_der.len())
            .finish_non_exhaustive()
    }
}

/// Makes a fresh token-signing identity.
pub fn signing_identity() -> SigningIdentity {
    let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("token key");
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("token params");
    params.distinguished_name = dn("ferry-testkit token signer");
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    let cert = params.self_signed(&key).expect("self-sign token cert");
    let ring_key = ring::signature::EcdsaKeyPair::from_pkcs8(
        &ring::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
        &key.serialize_der(),
        &ring::rand::SystemRandom::new(),
    )
    .expect("load token key into ring");
    SigningIdentity {
        key: ring_key,
        cert_der: cert.der().to_vec(),
        cert_pem: cert.pem(),
    }
}
