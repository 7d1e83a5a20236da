//! Diesel table definitions shared by the SQLite and PostgreSQL backends.

diesel::table! {
    accounts (id) {
        id -> BigInt,
        kind -> Text,
        username -> Text,
        domain -> Nullable<Text>,
        actor_url -> Text,
        inbox_url -> Text,
        shared_inbox_url -> Nullable<Text>,
        outbox_url -> Nullable<Text>,
        followers_url -> Nullable<Text>,
        following_url -> Nullable<Text>,
        profile_url -> Nullable<Text>,
        public_key_pem -> Text,
        private_key_pem -> Nullable<Text>,
        display_name -> Nullable<Text>,
        summary -> Nullable<Text>,
        avatar_url -> Nullable<Text>,
        manually_approves_followers -> Bool,
        owner_id -> Nullable<BigInt>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    tokens (id) {
        id -> BigInt,
        account_id -> BigInt,
        token_hash -> Text,
        scopes -> Text,
        created_at -> Timestamp,
        expires_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(tokens -> accounts (account_id));
diesel::allow_tables_to_appear_in_same_query!(accounts, tokens);
