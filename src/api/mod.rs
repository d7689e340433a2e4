//! The `berth.dev/v1alpha1` API.
