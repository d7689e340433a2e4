//! The controllers: one reconciler per CRD, sharing one context.

pub mod verify_hook;

pub use verify_hook::{
    UnavailableVerifier, VerificationMaterial, Verifier, VerifyError, VerifyFuture, VerifyRequest,
};
