//! Every error code the API answers with: one enum, so a code is never
//! misspelt, and the OpenAPI description lists them all.

/// The stable, machine-readable `code` of an error body.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Code {
    /// The experiment's allocator refused the assignment.
    AllocatorRefused,
    /// The bound allocator was built against a contract without what this needs.
    AllocatorTooOld,
    /// That e-mail address is a member of the team already.
    AlreadyMember,
    /// The merchant has this kind of background work running already.
    AlreadyRunning,
    /// The return flow refused one of the customer's answers; `field` names it.
    AnswerRefused,
    /// A signature that does not hold (a provider's webhook, a plugin).
    BadSignature,
    /// A batch has more items than the endpoint takes at once.
    BatchTooLarge,
    /// The body stopped arriving before it was whole.
    BodyInterrupted,
    /// The body is larger than the endpoint accepts.
    BodyTooLarge,
    /// An article's body is longer than allowed.
    BodyTooLong,
    /// The merchant's plugin calls are all busy; `Retry-After` says when to try again.
    Busy,
    /// Someone else changed it since it was read; read it again.
    ChangedMeanwhile,
    /// The member belongs to several shops: send `merchant`.
    ChooseMerchant,
    /// Compiling the uploaded component took too long.
    CompileTimeout,
    /// The plugin's component is larger than the host accepts.
    ComponentTooLarge,
    /// It exists already.
    Conflict,
    /// A planned contact that was dropped cannot get an outcome.
    ContactDropped,
    /// A console write without the session's CSRF token.
    CsrfTokenMissing,
    /// A merchant was not created: its default policies could not be bound.
    DefaultsFailed,
    /// An experiment with that key exists already.
    ExperimentExists,
    /// The component's exports do not match its world.
    ExportMismatch,
    /// The credentials may not do this.
    Forbidden,
    /// The component imports something a plugin may not use.
    ForbiddenImport,
    /// Something failed on Cove's side; it has been logged.
    Internal,
    /// The widget's accent colour is not usable.
    InvalidAccent,
    /// A survey or return answer breaks its question's rules.
    InvalidAnswer,
    /// An article id that is not 1-64 letters, digits, `-` or `_`.
    InvalidArticleId,
    /// A send batch's request is refused.
    InvalidBatch,
    /// A canary's steps, schedule or bounds are out of range.
    InvalidCanary,
    /// The plugin refused the config.
    InvalidConfig,
    /// A survey's cooldown is out of range.
    InvalidCooldown,
    /// A report's `days` is out of range.
    InvalidDays,
    /// A decision on a return is not one of those offered.
    InvalidDecision,
    /// The experiment's definition is refused; `field` names why.
    InvalidExperiment,
    /// A form body that does not parse (a provider's webhook).
    InvalidForm,
    /// An import's format is not one Cove reads.
    InvalidFormat,
    /// The input does not fit the slot's contract.
    InvalidInput,
    /// The invitation link is unknown, used or expired.
    InvalidInvitation,
    /// The body is not JSON of the expected shape.
    InvalidJson,
    /// That is not an API key.
    InvalidKey,
    /// A request to create or roll an API key is refused.
    InvalidKeyRequest,
    /// A merchant's limits are out of range.
    InvalidLimits,
    /// A report link whose signature does not match.
    InvalidLink,
    /// A locale that is not a BCP 47 tag.
    InvalidLocale,
    /// An invitation or a member change is malformed (the message says which field).
    InvalidMemberRequest,
    /// A merchant id that is not 1-64 letters, digits, `-` or `_`.
    InvalidMerchantId,
    /// A plugin name that is not lower-case letters, digits and dashes.
    InvalidName,
    /// A survey question's options are refused.
    InvalidOptions,
    /// An allowed origin that is not scheme and host.
    InvalidOrigin,
    /// A send outcome that is not one of those known.
    InvalidOutcome,
    /// A survey's targeting paths are refused.
    InvalidPaths,
    /// A phone number that cannot be read.
    InvalidPhone,
    /// A send plan's request is refused.
    InvalidPlan,
    /// A plugin reference that is not `name@version`.
    InvalidPluginRef,
    /// A survey's prompt is refused.
    InvalidPrompt,
    /// An SMS provider's credentials are refused.
    InvalidProvider,
    /// Not an Ed25519 public key.
    InvalidPublicKey,
    /// A publisher name that is not usable.
    InvalidPublisher,
    /// A query parameter is missing or malformed.
    InvalidQuery,
    /// A survey question id that is not usable.
    InvalidQuestionId,
    /// A survey's questions are refused.
    InvalidQuestions,
    /// An RFM run's request is refused.
    InvalidRun,
    /// A survey's sample rate is not between 0 and 1.
    InvalidSampleRate,
    /// An RFM schedule is refused.
    InvalidSchedule,
    /// A search query is refused.
    InvalidSearch,
    /// The decision log's settings are refused.
    InvalidSettings,
    /// A status that is not one of those known.
    InvalidStatus,
    /// A survey id that is not 1-64 letters, digits, `-` or `_`.
    InvalidSurveyId,
    /// A merchant's search synonyms are refused.
    InvalidSynonyms,
    /// An article's tags are refused.
    InvalidTags,
    /// The widget's texts are refused.
    InvalidTexts,
    /// A survey's title is refused.
    InvalidTitle,
    /// A survey's trigger is refused.
    InvalidTrigger,
    /// An article's validity dates are refused.
    InvalidValidity,
    /// A plugin version that is not semantic versioning.
    InvalidVersion,
    /// An article vote that is not helpful or not.
    InvalidVote,
    /// The API key is revoked.
    KeyRevoked,
    /// The last key that can manage keys cannot be revoked.
    LastKey,
    /// The change would leave the team without an owner.
    LastOwner,
    /// A report link past its expiry.
    LinkExpired,
    /// A merchant with that id exists already.
    MerchantExists,
    /// The endpoint does not take that method.
    MethodNotAllowed,
    /// A required answer is missing.
    MissingAnswer,
    /// A required parameter is missing.
    MissingParameter,
    /// The caller's key lacks the scope the endpoint needs.
    MissingPermission,
    /// A batch of answers from more than one visitor.
    MixedVisitors,
    /// The return session has moved past that step.
    MovedOn,
    /// No allocator plugin is bound to run experiments.
    NoAllocator,
    /// The return session has no form to answer.
    NoForm,
    /// No RFM run has finished yet.
    NoRfmRun,
    /// No RFM scorer plugin is bound.
    NoRfmScorer,
    /// The upload is not a WebAssembly component.
    NotAComponent,
    /// Only a running bandit can be reweighted.
    NotARunningBandit,
    /// A return photo that is not a JPEG, PNG or WebP image.
    NotAnImage,
    /// No such merchant, object or endpoint.
    NotFound,
    /// The return is not waiting for a person.
    NotInQueue,
    /// The return session is not ready to submit.
    NotReady,
    /// A note longer than allowed.
    NoteTooLong,
    /// There is no earlier binding to go back to.
    NothingToRollBack,
    /// The operator token where a merchant's credentials are needed.
    OperatorToken,
    /// The order has nothing left to return.
    OrderGone,
    /// No order with that number and e-mail.
    OrderNotFound,
    /// The page's origin may not use this merchant's widget.
    OriginNotAllowed,
    /// A public write without an `Origin` header (browsers always send one).
    OriginRequired,
    /// The plugin failed; the old state stays.
    PluginFailed,
    /// The plugin refused the input on purpose; `error` has its reason.
    PluginRefused,
    /// A yanked plugin version cannot be bound.
    PluginYanked,
    /// A publisher of that name is registered already.
    PublisherExists,
    /// The publisher's key was revoked.
    PublisherRevoked,
    /// Over a rate limit; `Retry-After` says when to try again.
    RateLimited,
    /// The request took too long to send and answer.
    RequestTimeout,
    /// The allocator could not set weights; the old ones stay.
    ReweightFailed,
    /// The console session has ended.
    SessionExpired,
    /// The component implements more than one world.
    SeveralWorlds,
    /// The e-mail address and password (or code) do not match a member.
    SignInFailed,
    /// Not signed in to the console.
    SignedOut,
    /// No plugin is bound to the slot.
    SlotUnbound,
    /// A return has its most photos already.
    TooManyPhotos,
    /// The order's returns were started too often today.
    TooManyReturns,
    /// This member signs in with a one-time code too: send `code`.
    TotpNeeded,
    /// The operator requires owners to use one-time codes: set one up.
    TotpRequired,
    /// No or an unknown bearer token.
    Unauthenticated,
    /// A field that is not known.
    UnknownField,
    /// An API key that is not known.
    UnknownKey,
    /// A signature by a publisher the host does not know.
    UnknownPublisher,
    /// The component implements no world Cove serves.
    UnknownWorld,
    /// An unsigned plugin where a signature is needed.
    UnsignedPlugin,
    /// The merchant's uploads are at their quota.
    UploadQuotaFull,
    /// A running experiment's variations cannot change.
    VariationsLocked,
    /// That plugin version exists already with other bytes.
    VersionExists,
    /// The password is too short or too common.
    WeakPassword,
    /// The widget's files are not built.
    WidgetNotBuilt,
    /// The plugin implements another slot's world.
    WorldMismatch,
    /// The plugin was built against a contract version Cove does not serve.
    WorldVersionMismatch,
    /// A namespaced plugin name (`acme/fatigue`) published by another
    /// publisher, or by one without a registered key.
    WrongNamespace,
}

impl Code {
    /// The code as it appears in an error body (`invalid_json`).
    pub fn as_str(self) -> &'static str {
        match self {
            Code::AllocatorRefused => "allocator_refused",
            Code::AllocatorTooOld => "allocator_too_old",
            Code::AlreadyMember => "already_member",
            Code::AlreadyRunning => "already_running",
            Code::AnswerRefused => "answer_refused",
            Code::BadSignature => "bad_signature",
            Code::BatchTooLarge => "batch_too_large",
            Code::BodyInterrupted => "body_interrupted",
            Code::BodyTooLarge => "body_too_large",
            Code::BodyTooLong => "body_too_long",
            Code::Busy => "busy",
            Code::ChangedMeanwhile => "changed_meanwhile",
            Code::ChooseMerchant => "choose_merchant",
            Code::CompileTimeout => "compile_timeout",
            Code::ComponentTooLarge => "component_too_large",
            Code::Conflict => "conflict",
            Code::ContactDropped => "contact_dropped",
            Code::CsrfTokenMissing => "csrf_token_missing",
            Code::DefaultsFailed => "defaults_failed",
            Code::ExperimentExists => "experiment_exists",
            Code::ExportMismatch => "export_mismatch",
            Code::Forbidden => "forbidden",
            Code::ForbiddenImport => "forbidden_import",
            Code::Internal => "internal",
            Code::InvalidAccent => "invalid_accent",
            Code::InvalidAnswer => "invalid_answer",
            Code::InvalidArticleId => "invalid_article_id",
            Code::InvalidBatch => "invalid_batch",
            Code::InvalidCanary => "invalid_canary",
            Code::InvalidConfig => "invalid_config",
            Code::InvalidCooldown => "invalid_cooldown",
            Code::InvalidDays => "invalid_days",
            Code::InvalidDecision => "invalid_decision",
            Code::InvalidExperiment => "invalid_experiment",
            Code::InvalidForm => "invalid_form",
            Code::InvalidFormat => "invalid_format",
            Code::InvalidInput => "invalid_input",
            Code::InvalidInvitation => "invalid_invitation",
            Code::InvalidJson => "invalid_json",
            Code::InvalidKey => "invalid_key",
            Code::InvalidKeyRequest => "invalid_key_request",
            Code::InvalidLimits => "invalid_limits",
            Code::InvalidLink => "invalid_link",
            Code::InvalidLocale => "invalid_locale",
            Code::InvalidMemberRequest => "invalid_member_request",
            Code::InvalidMerchantId => "invalid_merchant_id",
            Code::InvalidName => "invalid_name",
            Code::InvalidOptions => "invalid_options",
            Code::InvalidOrigin => "invalid_origin",
            Code::InvalidOutcome => "invalid_outcome",
            Code::InvalidPaths => "invalid_paths",
            Code::InvalidPhone => "invalid_phone",
            Code::InvalidPlan => "invalid_plan",
            Code::InvalidPluginRef => "invalid_plugin_ref",
            Code::InvalidPrompt => "invalid_prompt",
            Code::InvalidProvider => "invalid_provider",
            Code::InvalidPublicKey => "invalid_public_key",
            Code::InvalidPublisher => "invalid_publisher",
            Code::InvalidQuery => "invalid_query",
            Code::InvalidQuestionId => "invalid_question_id",
            Code::InvalidQuestions => "invalid_questions",
            Code::InvalidRun => "invalid_run",
            Code::InvalidSampleRate => "invalid_sample_rate",
            Code::InvalidSchedule => "invalid_schedule",
            Code::InvalidSearch => "invalid_search",
            Code::InvalidSettings => "invalid_settings",
            Code::InvalidStatus => "invalid_status",
            Code::InvalidSurveyId => "invalid_survey_id",
            Code::InvalidSynonyms => "invalid_synonyms",
            Code::InvalidTags => "invalid_tags",
            Code::InvalidTexts => "invalid_texts",
            Code::InvalidTitle => "invalid_title",
            Code::InvalidTrigger => "invalid_trigger",
            Code::InvalidValidity => "invalid_validity",
            Code::InvalidVersion => "invalid_version",
            Code::InvalidVote => "invalid_vote",
            Code::KeyRevoked => "key_revoked",
            Code::LastKey => "last_key",
            Code::LastOwner => "last_owner",
            Code::LinkExpired => "link_expired",
            Code::MerchantExists => "merchant_exists",
            Code::MethodNotAllowed => "method_not_allowed",
            Code::MissingAnswer => "missing_answer",
            Code::MissingParameter => "missing_parameter",
            Code::MissingPermission => "missing_permission",
            Code::MixedVisitors => "mixed_visitors",
            Code::MovedOn => "moved_on",
            Code::NoAllocator => "no_allocator",
            Code::NoForm => "no_form",
            Code::NoRfmRun => "no_rfm_run",
            Code::NoRfmScorer => "no_rfm_scorer",
            Code::NotAComponent => "not_a_component",
            Code::NotARunningBandit => "not_a_running_bandit",
            Code::NotAnImage => "not_an_image",
            Code::NotFound => "not_found",
            Code::NotInQueue => "not_in_queue",
            Code::NotReady => "not_ready",
            Code::NoteTooLong => "note_too_long",
            Code::NothingToRollBack => "nothing_to_roll_back",
            Code::OperatorToken => "operator_token",
            Code::OrderGone => "order_gone",
            Code::OrderNotFound => "order_not_found",
            Code::OriginNotAllowed => "origin_not_allowed",
            Code::OriginRequired => "origin_required",
            Code::PluginFailed => "plugin_failed",
            Code::PluginRefused => "plugin_refused",
            Code::PluginYanked => "plugin_yanked",
            Code::PublisherExists => "publisher_exists",
            Code::PublisherRevoked => "publisher_revoked",
            Code::RateLimited => "rate_limited",
            Code::RequestTimeout => "request_timeout",
            Code::ReweightFailed => "reweight_failed",
            Code::SessionExpired => "session_expired",
            Code::SeveralWorlds => "several_worlds",
            Code::SignInFailed => "sign_in_failed",
            Code::SignedOut => "signed_out",
            Code::SlotUnbound => "slot_unbound",
            Code::TooManyPhotos => "too_many_photos",
            Code::TooManyReturns => "too_many_returns",
            Code::TotpNeeded => "totp_needed",
            Code::TotpRequired => "totp_required",
            Code::Unauthenticated => "unauthenticated",
            Code::UnknownField => "unknown_field",
            Code::UnknownKey => "unknown_key",
            Code::UnknownPublisher => "unknown_publisher",
            Code::UnknownWorld => "unknown_world",
            Code::UnsignedPlugin => "unsigned_plugin",
            Code::UploadQuotaFull => "upload_quota_full",
            Code::VariationsLocked => "variations_locked",
            Code::VersionExists => "version_exists",
            Code::WeakPassword => "weak_password",
            Code::WidgetNotBuilt => "widget_not_built",
            Code::WorldMismatch => "world_mismatch",
            Code::WorldVersionMismatch => "world_version_mismatch",
            Code::WrongNamespace => "wrong_namespace",
        }
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
