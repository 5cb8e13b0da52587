//! Writing files safely: a leaf module every layer may use (the LLM layer's caches, proposals).

pub mod atomic;
pub mod json_cache;
