//! etcd + kube-apiserver + kube-controller-manager + kwok (to be written).

use anyhow::{bail, Result};

pub struct ControlPlane {}

impl ControlPlane {
    pub fn start(_env: &super::Env) -> Result<ControlPlane> {
        bail!("the control plane is not written yet")
    }
    pub fn stop(self) {}
}
