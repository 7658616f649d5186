//! Authentication mechanisms: cleartext, MD5 and SCRAM-SHA-256(-PLUS), for both roles.
