//! PostgreSQL data types: OIDs, text and binary value codecs, and conversion traits.
