//! Wire formats of the Stacks ecosystem, each written once: sign-in requests and
//! responses, JWTs, Gaia tokens and hub answers, profiles, Sign-In with Stacks and its
//! server-side verification, the wallet interface (SIP-030), and Clarity values.

pub mod auth;
pub mod clarity;
pub mod gaia;
pub mod hub_urls;
pub mod jwt;
pub mod profile;
pub mod response_verify;
pub mod sign_in_with_stacks;
pub mod signin;
pub mod wallet_rpc;
