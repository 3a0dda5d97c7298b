//! Small general-purpose pieces the rest of the core is written with: JSON as the JS
//! libraries read and write it, JavaScript's coercions (as the Node Gaia hub applies
//! them), strict URLs, text encodings, calendar time and sorting.

pub mod encoding;
pub mod http_url;
pub mod js;
pub mod json;
pub mod sorting;
pub mod time;
