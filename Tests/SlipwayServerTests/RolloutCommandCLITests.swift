import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import SlipwayCore
import SlipwayEngine
import SlipwayServer
import SlipwayTestSupport
import Testing

@testable import slipway

/// `slipway deploy`, the user commands and `restart` as a user runs them, against the API routes over a scripted
/// control.
@Suite struct RolloutCommandCLITests {
    /// Runs the built `slipway` to completion (bounded) as the user `ada`, without any `SLIPWAY_*` variable unless
    /// given.
    /// Who the CLI says asks when `USER` is `ada` and nothing else is said: the user at this host.
    static let ada = "ada@\(ProcessInfo.processInfo.hostName)"

    func slipway(_ arguments: [String], environment: [String: String] = [:]) async throws -> SlipwayBinary.Run {
        try await SlipwayBinary.run(arguments, environment: ["USER": "ada"].merging(environment) { $1 })
    }

    private static let quiet: Logger = {
        var logger = Logger(label: "slipway.test.api")
        logger.logLevel = .warning
        return logger
    }()

    /// Serves the API routes over `control` on a free loopback port for the duration of `body`.
    func withAPI(
        _ control: ScriptedRolloutControl,
        _ body: @escaping @Sendable (String) async throws -> Void
    ) async throws {
        let router = Router()
        CommandRoutes(control: control).add(to: router.group("api/v1"))
        let application = Application(
            router: router,
            configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: 0)),
            logger: Self.quiet
        )
        try await application.test(.live) { client in
            try await body("http://127.0.0.1:\(try #require(client.port))")
        }
    }

    // MARK: Reaching the controller

    @Test func unreachableControllerExits4WithOneLine() async throws {
        let port = try LoopbackHTTP.freePort()
        let run = try await slipway(["deploy", "shop", "--version", "2", "--url", "http://127.0.0.1:\(port)"])
        #expect(run.status == 4)
        #expect(run.stdout.isEmpty)
        #expect(run.stderr == "error: cannot reach the controller at 127.0.0.1:\(port): connection refused\n")
    }

    @Test func theURLComesFromSLIPWAY_URLWhenNotGiven() async throws {
        let port = try LoopbackHTTP.freePort()
        let run = try await slipway(["abort", "shop"], environment: ["SLIPWAY_URL": "127.0.0.1:\(port)"])
        #expect(run.status == 4)
        #expect(run.stderr == "error: cannot reach the controller at 127.0.0.1:\(port): connection refused\n")
    }

    @Test func theURLComesFromTheConfigWithoutFlagOrEnvironment() async throws {
        let port = try LoopbackHTTP.freePort()
        let directory = try makeTemporaryDirectory()
        let config = """
            controller:
              api: 127.0.0.1:\(port)
            apps:
              - name: shop
                listen: 127.0.0.1:0
                instances: 1
                version: "1.0.0"
                run:
                  command: [slipway-demo-app]
            """
        try config.write(toFile: directory + "/slipway.yaml", atomically: true, encoding: .utf8)
        let run = try await slipway(["pause", "shop", "-f", directory + "/slipway.yaml"])
        #expect(run.status == 4, "\(run.stderr)")
        #expect(run.stderr == "error: cannot reach the controller at 127.0.0.1:\(port): connection refused\n")
    }

    @Test func aMissingConfigWithoutURLExits2() async throws {
        let run = try await slipway(["resume", "shop"])
        #expect(run.status == 2)
        #expect(run.stderr.contains("slipway.yaml"))
    }

    // MARK: Against the API

    @Test func aForcedDeployToAnEnvironmentSendsItsReasonAndNeedsOne() async throws {
        let control = ScriptedRolloutControl()
        try await withAPI(control) { url in
            let refused = try await slipway([
                "deploy", "shop", "-e", "prod", "--version", "2.0.1", "--force", "--url", url,
            ])
            #expect(refused.status == 2)
            #expect(refused.stderr.contains("--force needs --reason"))
            let run = try await slipway([
                "deploy", "shop", "--environment", "prod", "--version", "2.0.1", "--force", "--reason", "hotfix",
                "--url", url,
            ])
            #expect(run.status == 0, "\(run.stderr)")
            let promote = try await slipway(["promote", "shop@prod", "--url", url])
            #expect(promote.status == 0, "\(promote.stderr)")
        }
        let deploys = await control.deploys
        #expect(deploys.count == 1)
        #expect(deploys.first?.app == "shop@prod")
        #expect(deploys.first?.request == DeployRequest(version: "2.0.1", force: true, by: Self.ada, reason: "hotfix"))
        #expect(await control.commands.first?.app == "shop@prod")
    }

    @Test func aDeployInCISendsTheReleaseAndTheActorTheJobNames() async throws {
        let control = ScriptedRolloutControl()
        let github = [
            "GITHUB_ACTIONS": "true", "GITHUB_SHA": "3f2c9e1d", "GITHUB_SERVER_URL": "https://github.com",
            "GITHUB_REPOSITORY": "acme/shop", "GITHUB_RUN_ID": "4711", "GITHUB_REF": "refs/pull/42/merge",
            "GITHUB_ACTOR": "octocat",
        ]
        try await withAPI(control) { url in
            let run = try await slipway(
                ["deploy", "shop", "--version", "2.0.0", "--build", "ghcr.io/acme/shop:2.0.0", "--url", url],
                environment: github
            )
            #expect(run.status == 0, "\(run.stderr)")
            // Outside CI, flags alone; `--by` wins over everything.
            let plain = try await slipway([
                "deploy", "shop", "--version", "2.0.1", "--commit", "abc1234", "--by", "grace", "--url", url,
            ])
            #expect(plain.status == 0, "\(plain.stderr)")
        }
        let deploys = await control.deploys.map(\.request)
        #expect(deploys.first?.by == "octocat (GitHub Actions)")
        #expect(
            deploys.first?.release
                == ReleaseMetadata(
                    commit: "3f2c9e1d",
                    build: "ghcr.io/acme/shop:2.0.0",
                    source: "https://github.com/acme/shop/commit/3f2c9e1d",
                    changes: "https://github.com/acme/shop/pull/42",
                    author: "octocat"
                )
        )
        #expect(deploys.last?.by == "grace")
        #expect(deploys.last?.release == ReleaseMetadata(commit: "abc1234"))
    }

    @Test func historyShowsWhatARolloutShipped() {
        var record = RolloutRecord(
            number: 3,
            from: "1.0.0",
            to: "2.0.0",
            strategy: "canary",
            by: "octocat (GitHub Actions)",
            reason: nil,
            startedAt: Date(timeIntervalSince1970: 0)
        )
        #expect(!HistoryCommand.line(record).contains("["))
        record.release = ReleaseMetadata(commit: "3f2c9e1d5a7b9c0e", build: "4711", source: "https://example.com/x")
        #expect(HistoryCommand.line(record).contains("by octocat (GitHub Actions)  [commit 3f2c9e1d5a7b, build 4711]"))
    }

    @Test func deployPrintsTheStartedLineAndSendsWhoAndWhy() async throws {
        let control = ScriptedRolloutControl()
        try await withAPI(control) { url in
            let run = try await slipway([
                "deploy", "shop", "--version", "2.0.0", "--strategy", "canary", "--env", "A=1", "--env", "B=x=y",
                "--supersede", "--reason", "new checkout", "--url", url,
            ])
            #expect(run.status == 0, "\(run.stderr)")
            #expect(run.stdout == "shop: rollout #3 1.0.0 → 2.0.0 (canary) started\n")
        }
        let request = await control.deploys.first?.request
        #expect(
            request
                == DeployRequest(
                    version: "2.0.0",
                    strategy: "canary",
                    env: ["A": "1", "B": "x=y"],
                    supersede: true,
                    by: Self.ada,
                    reason: "new checkout"
                )
        )
    }

    @Test func deployWaitPrintsEachChangeAndExits0WhenPromoted() async throws {
        let control = ScriptedRolloutControl(rollouts: [
            ScriptedRolloutControl.summary(step: 0), ScriptedRolloutControl.summary(step: 0),
            ScriptedRolloutControl.summary(step: 2), ScriptedRolloutControl.summary(state: "paused", step: 3),
            ScriptedRolloutControl.summary(state: "promoted", step: 9),
        ])
        try await withAPI(control) { url in
            let run = try await slipway(["deploy", "shop", "--version", "2.0.0", "--wait", "--url", url])
            #expect(run.status == 0, "\(run.stderr)")
            #expect(
                run.stdout.split(separator: "\n") == [
                    "shop: rollout #3 1.0.0 → 2.0.0 (canary) started", "step 1/9 weight 25%", "step 3/9 weight 25%",
                    "paused at step 4/9 weight 25%", "promoted: 2.0.0 is stable",
                ]
            )
        }
    }

    @Test func deployWaitExits1WhenRolledBack() async throws {
        let control = ScriptedRolloutControl(rollouts: [
            ScriptedRolloutControl.summary(step: 2),
            ScriptedRolloutControl.summary(state: "rollingBack", step: 2, reason: "successRate 0.91 < 0.99"),
            ScriptedRolloutControl.summary(state: "rolledBack", step: 2, reason: "successRate 0.91 < 0.99"),
        ])
        try await withAPI(control) { url in
            let run = try await slipway(["deploy", "shop", "--version", "2.0.0", "--wait", "--url", url])
            #expect(run.status == 1)
            #expect(
                run.stdout.split(separator: "\n").suffix(3) == [
                    "step 3/9 weight 25%", "rolling back: successRate 0.91 < 0.99",
                    "rolled back: successRate 0.91 < 0.99",
                ]
            )
        }
    }

    @Test func deployWaitJSONPrintsOnlyTheFinalSummary() async throws {
        let promoted = ScriptedRolloutControl.summary(state: "promoted", step: 9)
        try await withAPI(ScriptedRolloutControl(rollouts: [promoted])) { url in
            let run = try await slipway(["deploy", "shop", "--version", "2.0.0", "--wait", "--json", "--url", url])
            #expect(run.status == 0, "\(run.stderr)")
            #expect(try JSONDecoder().decode(RolloutSummary.self, from: Data(run.stdout.utf8)) == promoted)
        }
    }

    @Test func deployWaitGivesUpAtTheTimeoutWithExit1() async throws {
        try await withAPI(ScriptedRolloutControl()) { url in
            let run = try await slipway([
                "deploy", "shop", "--version", "2.0.0", "--wait", "--timeout", "600ms", "--url", url,
            ])
            #expect(run.status == 1)
            #expect(
                run.stderr
                    == "error: shop: rollout #3 1.0.0 → 2.0.0 (canary) is still running, step 3/9 weight 25% after "
                    + "600ms; it goes on without --wait (`slipway abort shop` stops it)\n"
            )
        }
    }

    @Test(arguments: [
        (CommandRefusal.Code.conflict, Int32(1)), (.badRequest, 2), (.notFound, 2), (.deployWindow, 3),
    ])
    func refusalsExitWithTheirCodeAndPrintTheMessage(code: CommandRefusal.Code, status: Int32) async throws {
        let control = ScriptedRolloutControl(refusal: CommandRefusal(code, "rollout #3 is running"))
        try await withAPI(control) { url in
            for arguments in [["deploy", "shop", "--version", "2"], ["promote", "shop"], ["restart", "shop"]] {
                let run = try await slipway(arguments + ["--url", url])
                #expect(run.status == status, "\(arguments)")
                #expect(run.stdout.isEmpty)
                #expect(run.stderr == "error: rollout #3 is running\n")
            }
        }
    }

    @Test func commandsPrintTheMessageAndSendTheirOptions() async throws {
        let control = ScriptedRolloutControl()
        try await withAPI(control) { url in
            let pause = try await slipway(["pause", "shop", "--url", url])
            #expect(pause.status == 0, "\(pause.stderr)")
            #expect(pause.stdout == "shop: pause: rollout #3 1.0.0 → 2.0.0 (canary) paused at step 3/9 weight 25%\n")
            for arguments in [
                ["promote", "shop", "--full", "--by", "grace"], ["abort", "shop"], ["resume", "shop"],
                ["retry", "shop"], ["rollback", "shop", "--to", "1.0.0"], ["rollback", "shop"],
            ] {
                let run = try await slipway(arguments + ["--url", url])
                #expect(run.status == 0, "\(arguments): \(run.stderr)")
            }
            let json = try await slipway(["promote", "shop", "--json", "--url", url])
            #expect(try JSONDecoder().decode(RolloutSummary.self, from: Data(json.stdout.utf8)).rollout == 3)
        }
        let commands = await control.commands
        #expect(
            commands.map(\.command) == [
                .pause, .promote(full: true), .abort, .resume, .retry, .rollback(to: "1.0.0"), .rollback(to: nil),
                .promote(full: false),
            ]
        )
        #expect(commands.map(\.by) == [Self.ada, "grace", Self.ada, Self.ada, Self.ada, Self.ada, Self.ada, Self.ada])
    }

    @Test func restartWaitFollowsTheRestart() async throws {
        let control = ScriptedRolloutControl(rollouts: [ScriptedRolloutControl.summary(state: "promoted", step: 9)])
        try await withAPI(control) { url in
            let run = try await slipway(["restart", "shop", "--wait", "--url", url])
            #expect(run.status == 0, "\(run.stderr)")
            #expect(run.stdout.split(separator: "\n").last == "promoted: 2.0.0 is stable")
        }
        #expect(await control.restarts.first?.by == Self.ada)
    }

    // MARK: Parsing

    @Test func deployOptionsParse() throws {
        let command = try DeployCommand.parse([
            "shop", "--version", "2", "--env", "A=1", "--env", "A=2", "--env", "B=", "--timeout", "90s",
        ])
        #expect(try command.environment() == ["A": "2", "B": ""])
        #expect(command.waiting.limit == .seconds(90))
        #expect(command.waiting.wait == false)
        #expect(throws: (any Error).self) { try DeployCommand.parse(["shop", "--version", "2", "--env", "=1"]) }
        #expect(throws: (any Error).self) { try DeployCommand.parse(["shop", "--version", "2", "--timeout", "soon"]) }
        #expect(throws: (any Error).self) { try DeployCommand.parse(["shop"]) }
    }

    @Test func controllerURLsParse() {
        #expect(ControllerEndpoint(url: "http://127.0.0.1:7070/", token: nil)?.base == "http://127.0.0.1:7070")
        #expect(ControllerEndpoint(url: "127.0.0.1:7070", token: nil)?.address == "127.0.0.1:7070")
        #expect(ControllerEndpoint(url: "http://[::1]:7070", token: nil)?.address == "[::1]:7070")
        #expect(ControllerEndpoint(url: "https://slipway.example", token: nil)?.address == "slipway.example:443")
        #expect(ControllerEndpoint(url: "ftp://127.0.0.1:7070", token: nil) == nil)
        #expect(ControllerEndpoint(url: "http://", token: nil) == nil)
    }

    @Test func theURLFlagWinsOverTheEnvironment() throws {
        let options = try ControllerOptions.parse(["--url", "http://127.0.0.1:1", "-f", "/nonexistent/slipway.yaml"])
        let endpoint = try options.endpoint(environment: ["SLIPWAY_URL": "http://127.0.0.1:2", "SLIPWAY_TOKEN": "t"])
        #expect(endpoint == ControllerEndpoint(base: "http://127.0.0.1:1", address: "127.0.0.1:1", token: "t"))
    }

    @Test func commandBodiesCarryOnlyWhatTheCommandTakes() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        func encoded(_ command: UserCommand) throws -> String {
            String(decoding: try encoder.encode(CommandRequestBody(command: command, by: "ada")), as: UTF8.self)
        }
        #expect(try encoded(.promote(full: false)) == #"{"by":"ada"}"#)
        #expect(try encoded(.promote(full: true)) == #"{"by":"ada","full":true}"#)
        #expect(try encoded(.rollback(to: "1.0.0")) == #"{"by":"ada","to":"1.0.0"}"#)
        #expect(CommandRequestBody(command: .retry, by: "ada").action == "retry")
    }
}
