//! The DRS orchestration module (platform lifecycle, discovery, protection groups, waves).
