//! A microformats2 parser (h-entry, h-card, h-feed, rels) on html5ever.
