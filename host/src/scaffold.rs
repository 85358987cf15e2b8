//! `cove plugin new`: a plugin crate that builds and passes its tests.
