//! The documented refusals as one enum: each case's id, HTTP status,
//! `error` and description, in one table ([`Case::row`]). Ids and texts are
//! those of tests/peer/maskinporten-errors.mjs (Digdir's error page).

/// A documented refusal of the token endpoint. In MP-250 and MP-251 the
/// description's `{scope}`, `{consumer}` and `{supplier}` are filled in per
/// request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Case {
    /// `MP-100`
    Mp100,
    /// `MP-100-not-found`
    Mp100NotFound,
    /// `MP-110`
    Mp110,
    /// `MP-120`
    Mp120,
    /// `MP-121`
    Mp121,
    /// `unknown-kid`
    UnknownKid,
    /// `kid-required`
    KidRequired,
    /// `MP-124`
    Mp124,
    /// `MP-011`
    Mp011,
    /// `extra-claim`
    ExtraClaim,
    /// `consumer-org-own`
    ConsumerOrgOwn,
    /// `MP-200`
    Mp200,
    /// `MP-201`
    Mp201,
    /// `MP-012`
    Mp012,
    /// `MP-130`
    Mp130,
    /// `MP-122`
    Mp122,
    /// `MP-123`
    Mp123,
    /// `iat-future`
    IatFuture,
    /// `MP-301`
    Mp301,
    /// `MP-302`
    Mp302,
    /// `MP-303`
    Mp303,
    /// `MP-250`
    Mp250,
    /// `MP-251`
    Mp251,
}

/// One case's row: id, HTTP status, `error`, description.
type Row = (&'static str, u16, &'static str, &'static str);

impl Case {
    /// Every case, in the order of the token endpoint's documentation.
    pub const ALL: [Case; 23] = [
        Case::Mp100,
        Case::Mp100NotFound,
        Case::Mp110,
        Case::Mp120,
        Case::Mp121,
        Case::UnknownKid,
        Case::KidRequired,
        Case::Mp124,
        Case::Mp011,
        Case::ExtraClaim,
        Case::ConsumerOrgOwn,
        Case::Mp200,
        Case::Mp201,
        Case::Mp012,
        Case::Mp130,
        Case::Mp122,
        Case::Mp123,
        Case::IatFuture,
        Case::Mp301,
        Case::Mp302,
        Case::Mp303,
        Case::Mp250,
        Case::Mp251,
    ];

    /// The table: (case id, HTTP status, `error`, description).
    fn row(self) -> Row {
        match self {
            Case::Mp100 => (
                "MP-100",
                400,
                "invalid_grant",
                "Invalid assertion. Client authentication failed.",
            ),
            Case::Mp100NotFound => ("MP-100-not-found", 400, "invalid_grant", "Client not found"),
            Case::Mp110 => (
                "MP-110",
                400,
                "invalid_grant",
                "Invalid assertion. Client authentication failed. Invalid JWT claim aud",
            ),
            Case::Mp120 => (
                "MP-120",
                400,
                "invalid_grant",
                "Invalid assertion. Client authentication failed. The JWT is signed with an invalid certificate.",
            ),
            Case::Mp121 => (
                "MP-121",
                400,
                "invalid_grant",
                "Invalid assertion. Client authentication failed. Expired key",
            ),
            Case::UnknownKid => (
                "unknown-kid",
                400,
                "invalid_grant",
                "Invalid assertion. Client authentication failed. Unknown key identifier (kid) for client.",
            ),
            Case::KidRequired => (
                "kid-required",
                400,
                "invalid_grant",
                "Invalid assertion. Client authentication failed. Invalid JWT. The client requires pre-registered jwk and no key identifier (kid) provided",
            ),
            Case::Mp124 => (
                "MP-124",
                400,
                "invalid_grant",
                "Invalid assertion. Client authentication failed. Invalid JWT signature.",
            ),
            Case::Mp011 => (
                "MP-011",
                400,
                "invalid_request",
                "Invalid assertion. Invalid parameter value",
            ),
            Case::ExtraClaim => ("extra-claim", 400, "invalid_request", "Invalid assertion"),
            Case::ConsumerOrgOwn => (
                "consumer-org-own",
                400,
                "invalid_request",
                "Validation of JWT claim failed: The combination consumer_org in claim and delegation scope on client is invalid",
            ),
            Case::Mp200 => (
                "MP-200",
                400,
                "invalid_scope",
                "Token request contains invalid scopes for client",
            ),
            Case::Mp201 => (
                "MP-201",
                400,
                "invalid_scope",
                "Token request contains scopes not allowed for maskinporten",
            ),
            Case::Mp012 => ("MP-012", 400, "invalid_grant", "Grant is used before"),
            Case::Mp130 => ("MP-130", 400, "invalid_grant", "JWT is expired"),
            Case::Mp122 => (
                "MP-122",
                400,
                "invalid_grant",
                "Invalid JWT. Invalid organization number for client. Does not match certificate orgno",
            ),
            Case::Mp123 => ("MP-123", 400, "invalid_grant", "Invalid JWT header x5c"),
            Case::IatFuture => (
                "iat-future",
                400,
                "invalid_grant",
                "Issue time is after now",
            ),
            Case::Mp301 => (
                "MP-301",
                400,
                "invalid_request",
                "Unknown authorization details type",
            ),
            Case::Mp302 => (
                "MP-302",
                400,
                "invalid_request",
                "Unknown fields in the authorization details",
            ),
            Case::Mp303 => (
                "MP-303",
                400,
                "invalid_request",
                "Invalid authorization details values",
            ),
            Case::Mp250 => (
                "MP-250",
                403,
                "forbidden",
                "Consumer has not been granted access to the scope {scope}.",
            ),
            Case::Mp251 => (
                "MP-251",
                403,
                "forbidden",
                "Consumer {consumer} has not delegated access to the scope {scope} to supplier {supplier}.",
            ),
        }
    }

    /// The case id, e.g. `MP-100` (what `force_error` names).
    pub fn id(self) -> &'static str {
        self.row().0
    }

    /// The HTTP status of the refusal.
    pub fn status(self) -> u16 {
        self.row().1
    }

    /// The OAuth `error` code.
    pub fn error(self) -> &'static str {
        self.row().2
    }

    /// The `error_description` before the trace id (a template for MP-250
    /// and MP-251).
    pub fn description(self) -> &'static str {
        self.row().3
    }

    /// The `error_uri` sent with this case, if any.
    pub fn uri(self) -> Option<&'static str> {
        (self == Case::Mp121).then_some(super::MP_121_URI)
    }

    /// The case with this id.
    pub fn from_id(id: &str) -> Option<Case> {
        Case::ALL.iter().copied().find(|c| c.id() == id)
    }
}

/// The case ids, for messages.
pub(super) fn case_ids() -> String {
    Case::ALL
        .iter()
        .map(|c| c.id())
        .collect::<Vec<_>>()
        .join(", ")
}
