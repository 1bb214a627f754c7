//! The text of a test CA's revocation list file (`revocation::list`): the
//! comment at its top names the commands that write and read it, so it is
//! worded here; the list itself writes its entries.

use crate::revocation::list::RevocationList;

/// The file's first lines: what writes it and what reads it.
const ABOUT: &str = "# Certificates revoked by credkit test CAs: `credkit keygen --revoke CERT --ca CA`\n\
                     # adds to this file, and it may be edited by hand. `credkit serve revocation`\n\
                     # serves CRLs and OCSP answers from it; `credkit serve mock-maskinporten\n\
                     # --revocation-list` refuses what it lists (MP-120).\n";

/// The whole file, as `keygen --revoke` and `keygen --fixture-set` write it.
pub(crate) fn list_file(list: &RevocationList) -> String {
    list.to_toml(ABOUT)
}
