import ArgumentParser
import Foundation
import SlipwayCore
import SlipwayEngine
import SlipwayServer

/// `slipway deploy APP --version V`: start a rollout on the running controller.
struct DeployCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deploy",
        abstract: "Roll out a new version of an app with its strategy.",
        discussion: """
            Exit codes: 0 started (with --wait: promoted), 1 refused because of the app's state or because the \
            version was not promoted in the environment this one requires (with --wait: rolled back, aborted, \
            superseded or still running at --timeout), 2 bad usage or unknown app, 3 refused by a deploy window \
            (the message says when the next window opens), 4 controller unreachable or unauthorized.

            In a configuration with environments, name the app as APP@ENV (shop@prod) or give --environment.
            """
    )

    @Argument(help: "The app.")
    var app: String

    @Option(help: "The candidate version.")
    var version: String

    @Option(
        name: .customLong("variant"),
        help: ArgumentHelp(
            "Another version tested beside --version in an A/B/n test (variants C, D, …; repeatable; abTest only), "
                + "with environment variables of its own after commas.",
            valueName: "VERSION[,K=V…]"
        )
    )
    var variantSpecs: [String] = []

    @Option(help: "Another strategy than the app's: recreate, rolling, blueGreen, canary or abTest.")
    var strategy: String?

    @Option(
        name: .customLong("env"),
        help: ArgumentHelp("An environment variable for the candidate's instances (repeatable).", valueName: "K=V")
    )
    var env: [String] = []

    @Option(help: "The commit shipped (default: $SLIPWAY_COMMIT, or the CI job's, e.g. $GITHUB_SHA).")
    var commit: String?

    @Option(help: "The build id or artifact, e.g. an image tag (default: $SLIPWAY_BUILD, or the CI run's link).")
    var build: String?

    @Option(help: "A link to the source at that commit (default: $SLIPWAY_SOURCE_URL, or the CI's commit page).")
    var sourceURL: String?

    @Option(help: "A changelog or pull-request link (default: $SLIPWAY_CHANGES_URL, or the CI's pull request).")
    var changesURL: String?

    @Option(help: "Who wrote the change (default: $SLIPWAY_AUTHOR, or the CI job's actor).")
    var author: String?

    @Flag(help: "Abort a running rollout first instead of being refused.")
    var supersede = false

    @Flag(help: "Deploy even outside the deploy windows, or before the required environment promoted the version.")
    var force = false

    @Option(help: "Why, recorded with the rollout (required with --force; recorded and notified).")
    var reason: String?

    @OptionGroup var target: EnvironmentOption

    @OptionGroup var waiting: WaitOptions

    @OptionGroup var controller: ControllerOptions

    @Flag(help: "Print the rollout as JSON.")
    var json = false

    func validate() throws {
        guard !version.isEmpty else { throw ValidationError("--version must not be empty") }
        if force, (reason ?? "").trimmingCharacters(in: .whitespaces).isEmpty {
            throw ValidationError("--force needs --reason \"…\": a forced deploy is recorded and notified with it")
        }
        _ = try environment()
        _ = try variants()
    }

    /// `--env` as a dictionary; a later `K=…` replaces an earlier one.
    func environment() throws -> [String: String] {
        try Self.variables(env, or: "--env: expected K=V")
    }

    /// `K=V` entries as a dictionary, a later `K` replacing an earlier one; `problem` starts the message for an entry
    /// that is not one.
    static func variables(_ entries: [String], or problem: String) throws -> [String: String] {
        var result: [String: String] = [:]
        for entry in entries {
            guard let equals = entry.firstIndex(of: "="), equals != entry.startIndex else {
                throw ValidationError("\(problem), got \"\(entry)\"")
            }
            result[String(entry[..<equals])] = String(entry[entry.index(after: equals)...])
        }
        return result
    }

    /// What is shipped: the flags, else the environment (``ReleaseMetadata/detected(in:)``).
    func release(in environment: [String: String]) -> ReleaseMetadata {
        var metadata = ReleaseMetadata.detected(in: environment)
        for (key, flag) in [
            ("commit", commit), ("build", build), ("source", sourceURL), ("changes", changesURL), ("author", author),
        ] {
            if let flag { metadata.set(key, to: flag.isEmpty ? nil : flag) }
        }
        return metadata
    }

    /// `--variant` as releases: `2.1.0` or `2.1.0,FLAG=on,LIMIT=3`.
    func variants() throws -> [Release] {
        try variantSpecs.map { spec in
            let parts = spec.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            guard let version = parts.first, !version.isEmpty else {
                throw ValidationError("--variant: expected VERSION[,K=V…], got \"\(spec)\"")
            }
            let env = try Self.variables(
                Array(parts.dropFirst()),
                or: "--variant \(version): expected K=V after a comma"
            )
            return Release(version: version, env: env)
        }
    }

    func run() async throws {
        let request = DeployRequest(
            version: version,
            variants: try variants(),
            strategy: strategy,
            env: try environment(),
            supersede: supersede,
            force: force,
            by: controller.user,
            reason: reason,
            release: release(in: ProcessInfo.processInfo.environment)
        )
        try await ControllerCall.run(controller) { client throws(ControllerFailure) in
            let summary = try await client.post(
                app: target.qualified(app),
                "deploy",
                body: request,
                as: RolloutSummary.self
            )
            if !json { ControllerCall.printLine(Self.startedLine(summary)) }
            return try await waiting.finish(summary, via: client, json: json)
        }
    }

    /// `shop: rollout #3 1.0.0 → 2.0.0 (canary) started`.
    static func startedLine(_ summary: RolloutSummary) -> String {
        summary.isFinished ? "\(summary.title) \(summary.stateText)" : "\(summary.title) started"
    }
}
