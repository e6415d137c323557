//! `subgraphs.*.tls.ca_file`: a PEM file of CA certificates for subgraphs' TLS, read when the
//! configuration is loaded (and reloaded), so a missing file is a configuration error with
//! its key, and a rotated CA is picked up by a reload. Only its shape is checked here (PEM
//! certificate blocks); the certificates are parsed where the subgraph clients are built.

use std::path::Path;
use std::sync::Arc;

/// The line that opens a PEM certificate.
const PEM_CERTIFICATE: &[u8] = b"-----BEGIN CERTIFICATE-----";

/// Why a CA file cannot be used. The file it is in is said by whoever reports it.
#[derive(Debug, thiserror::Error)]
pub enum CaFileError {
    #[error("{0}")]
    Unreadable(#[from] std::io::Error),
    /// No `-----BEGIN CERTIFICATE-----` block: a DER file, a key, or an empty file.
    #[error("no PEM certificate (`-----BEGIN CERTIFICATE-----`) in the file")]
    NoCertificate,
}

/// Reads the CA file at `path`.
pub fn read(path: &Path) -> Result<Arc<[u8]>, CaFileError> {
    let bytes = std::fs::read(path)?;
    if !bytes
        .windows(PEM_CERTIFICATE.len())
        .any(|w| w == PEM_CERTIFICATE)
    {
        return Err(CaFileError::NoCertificate);
    }
    Ok(bytes.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pem_certificate_is_read_and_anything_else_refused() {
        let dir = std::env::temp_dir().join(format!("weft-ca-file-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let pem = dir.join("ca.pem");
        let text = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
        std::fs::write(&pem, text).unwrap();
        assert_eq!(&*read(&pem).unwrap(), text.as_bytes());
        let key = dir.join("key.pem");
        std::fs::write(&key, "-----BEGIN PRIVATE KEY-----\nMIIB\n").unwrap();
        assert!(matches!(read(&key), Err(CaFileError::NoCertificate)));
        assert!(matches!(
            read(&dir.join("absent.pem")),
            Err(CaFileError::Unreadable(_))
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
