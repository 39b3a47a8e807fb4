//! The Ferrokube kubelet: runs pods on containerd through CRI.
//! Not built yet; see the kubelet issue.
#![forbid(unsafe_code)]
