/// What asking the publish queue for a job gave.
enum RepublishOutcome: Sendable, Equatable {
    case queued(jobID: String)
    /// No recipe names the tileset and it is no map published with the default recipe.
    case unknownTileset
    /// The job could not be recorded (the log has the reason).
    case failed
}
