//! Norwegian organisation numbers (organisasjonsnummer): 9 digits, the last
//! a modulus-11 check digit over the first eight with the weights
//! 3, 2, 7, 6, 5, 4, 3, 2 (the rule of the Register of Legal Entities,
//! Enhetsregisteret). They appear as `NTRNO-<9 digits>` in a business
//! certificate's organizationIdentifier and as `0192:<9 digits>` (ISO 6523
//! ICD 0192) in Maskinporten's `consumer`/`supplier` claims.

use std::fmt;

/// The ISO 6523 prefix of Norwegian organisation numbers (`0192:`).
pub const ISO6523_PREFIX: &str = "0192:";
/// The ETSI EN 319 412-1 prefix in `organizationIdentifier` (`NTRNO-`).
pub const NTRNO_PREFIX: &str = "NTRNO-";
/// The ISO 6523 authority in Maskinporten's organisation objects.
pub const ISO6523_AUTHORITY: &str = "iso6523-actorid-upis";

const WEIGHTS: [u32; 8] = [3, 2, 7, 6, 5, 4, 3, 2];

/// Exactly nine ASCII digits (the shape, before the check digit).
pub fn is_nine_digits(s: &str) -> bool {
    s.len() == 9 && s.bytes().all(|b| b.is_ascii_digit())
}

/// The check digit nine digits should end with, or `None` when the first
/// eight admit none (remainder 1: such numbers are never issued). `digits`
/// must be nine ASCII digits.
pub fn expected_check_digit(digits: &str) -> Option<u32> {
    let sum: u32 = WEIGHTS
        .iter()
        .zip(digits.bytes())
        .map(|(w, b)| w * u32::from(b - b'0'))
        .sum();
    match 11 - sum % 11 {
        11 => Some(0),
        10 => None,
        c => Some(c),
    }
}

/// Nine digits whose last digit is the right check digit.
pub fn has_valid_check_digit(digits: &str) -> bool {
    is_nine_digits(digits)
        && expected_check_digit(digits)
            == digits
                .as_bytes()
                .get(8)
                .copied()
                .map(|b| u32::from(b - b'0'))
}

/// Why a value is not an organisation number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OrgNrError {
    #[error("{value:?} is not an organisation number (9 digits, like 123456785)")]
    Shape { value: String },
    #[error("{value:?} is not a valid organisation number")]
    NoCheckDigit { value: String },
    #[error("{value:?} is not a valid organisation number (its check digit should be {expected})")]
    CheckDigit { value: String, expected: u32 },
}

/// A valid organisation number: nine digits with a correct check digit.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OrgNr(String);

impl OrgNr {
    /// Read an organisation number as a user gives it: spaces, an `NTRNO-`
    /// or a `0192:` prefix are accepted.
    pub fn parse(value: &str) -> Result<OrgNr, OrgNrError> {
        let compact: String = value.chars().filter(|c| !c.is_whitespace()).collect();
        let digits = compact
            .strip_prefix(NTRNO_PREFIX)
            .or_else(|| compact.strip_prefix(ISO6523_PREFIX))
            .unwrap_or(&compact);
        if !is_nine_digits(digits) {
            return Err(OrgNrError::Shape {
                value: value.to_string(),
            });
        }
        match expected_check_digit(digits) {
            None => Err(OrgNrError::NoCheckDigit {
                value: value.to_string(),
            }),
            Some(c) if !has_valid_check_digit(digits) => Err(OrgNrError::CheckDigit {
                value: value.to_string(),
                expected: c,
            }),
            Some(_) => Ok(OrgNr(digits.to_string())),
        }
    }

    /// The nine digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `NTRNO-<digits>`, as in a business certificate's organizationIdentifier.
    pub fn ntrno(&self) -> String {
        format!("{NTRNO_PREFIX}{}", self.0)
    }

    /// `0192:<digits>`, as in Maskinporten's organisation objects.
    pub fn iso6523(&self) -> String {
        iso6523(&self.0)
    }
}

impl fmt::Display for OrgNr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `0192:<digits>` for any nine digits (the look-alike also writes numbers
/// whose check digit is wrong, when its clients file registers one).
pub fn iso6523(digits: &str) -> String {
    format!("{ISO6523_PREFIX}{digits}")
}

/// The nine digits of an ISO 6523 `0192:<9 digits>` id (shape only).
pub fn from_iso6523(id: &str) -> Option<&str> {
    id.strip_prefix(ISO6523_PREFIX)
        .filter(|d| is_nine_digits(d))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_accepts_the_usual_spellings() {
        for v in [
            "123456785",
            "123 456 785",
            "NTRNO-123456785",
            "0192:123456785",
        ] {
            assert_eq!(
                OrgNr::parse(v).map(|o| o.to_string()).as_deref(),
                Ok("123456785"),
                "{v}"
            );
        }
        // A real number (Digdir's), check digit 7.
        assert!(OrgNr::parse("991825827").is_ok());
        assert!(OrgNr::parse("987654325").is_ok());
    }

    #[test]
    fn parse_refuses_bad_shapes_and_check_digits() {
        assert!(matches!(
            OrgNr::parse("12345678"),
            Err(OrgNrError::Shape { .. })
        ));
        assert!(matches!(
            OrgNr::parse("12345678x"),
            Err(OrgNrError::Shape { .. })
        ));
        assert!(matches!(
            OrgNr::parse("NTRNO-1234567850"),
            Err(OrgNrError::Shape { .. })
        ));
        assert_eq!(
            OrgNr::parse("123456789"),
            Err(OrgNrError::CheckDigit {
                value: "123456789".into(),
                expected: 5
            })
        );
        // Eight digits whose weighted sum leaves remainder 1: no digit fits.
        let none = (0..100_000_000u32)
            .step_by(9_973)
            .map(|n| format!("{n:08}0"))
            .find(|d| expected_check_digit(d).is_none())
            .expect("some eight digits admit no check digit");
        assert!(matches!(
            OrgNr::parse(&none),
            Err(OrgNrError::NoCheckDigit { .. })
        ));
    }

    #[test]
    fn display_forms() {
        let o = OrgNr::parse("123456785").expect("valid");
        assert_eq!(o.ntrno(), "NTRNO-123456785");
        assert_eq!(o.iso6523(), "0192:123456785");
        assert_eq!(from_iso6523(&o.iso6523()), Some("123456785"));
        assert_eq!(from_iso6523("0192:98765"), None);
        assert_eq!(from_iso6523("9908:123456785"), None);
    }
}
