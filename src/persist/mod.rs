//! Writing files safely: a leaf module every layer may use (the LLM layer's caches, proposals,
//! the audit trail's directory).

pub mod atomic;
pub mod json_cache;
pub mod real_dirs;
