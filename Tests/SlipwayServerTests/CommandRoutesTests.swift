import Foundation
import Hummingbird
import HummingbirdTesting
import SlipwayEngine
import SlipwayServer
import Testing

/// A `RolloutControl` that records what it was asked and answers as scripted.
actor ScriptedRolloutControl: RolloutControl {
    /// What every call is refused with, when set.
    var refusal: CommandRefusal?
    /// What `rollout(app:)` answers, in turn; the last one keeps being answered.
    var rollouts: [RolloutSummary?]
    private(set) var deploys: [(app: String, request: DeployRequest)] = []
    private(set) var commands: [(app: String, command: UserCommand, by: String)] = []
    private(set) var restarts: [(app: String, by: String)] = []
    private(set) var rolloutReads = 0

    init(refusal: CommandRefusal? = nil, rollouts: [RolloutSummary?] = [ScriptedRolloutControl.summary()]) {
        self.refusal = refusal
        self.rollouts = rollouts
    }

    /// A running canary at its third step.
    static func summary(state: String = "running", step: Int = 2, reason: String? = nil) -> RolloutSummary {
        RolloutSummary(
            rollout: 3,
            app: "shop",
            from: "1.0.0",
            to: "2.0.0",
            strategy: "canary",
            state: state,
            step: step,
            steps: 9,
            stepDescription: "weight 25%",
            weights: ["1.0.0": 75, "2.0.0": 25],
            reason: reason
        )
    }

    /// Whether any call that could change something was made.
    var changedAnything: Bool { !deploys.isEmpty || !commands.isEmpty || !restarts.isEmpty }

    func deploy(app: String, _ request: DeployRequest) async throws(CommandRefusal) -> RolloutSummary {
        if let refusal { throw refusal }
        deploys.append((app, request))
        var summary = Self.summary(step: 0)
        summary.to = request.version
        return summary
    }

    func command(app: String, _ command: UserCommand, by user: String) async throws(CommandRefusal) -> RolloutSummary {
        if let refusal { throw refusal }
        commands.append((app, command, user))
        return Self.summary(state: command == .pause ? "paused" : "running")
    }

    func restart(app: String, by user: String) async throws(CommandRefusal) -> RolloutSummary {
        if let refusal { throw refusal }
        restarts.append((app, user))
        return Self.summary(step: 0)
    }

    func rollout(app: String) async throws(CommandRefusal) -> RolloutSummary? {
        if let refusal { throw refusal }
        rolloutReads += 1
        return rollouts.count > 1 ? rollouts.removeFirst() : rollouts.first ?? nil
    }
}

/// The rollout endpoints of the controller's API, over a scripted control.
@Suite struct CommandRoutesTests {
    private func application(_ control: ScriptedRolloutControl) -> some ApplicationProtocol {
        let router = Router(context: APIRequestContext.self)
        CommandRoutes(control: control).add(to: router.group("api/v1"))
        return Application(router: router)
    }

    private func json(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }

    private func errorBody(_ response: TestResponse) throws -> APIError {
        #expect(response.headers[.contentType]?.hasPrefix("application/json") == true)
        return try JSONDecoder().decode(APIError.self, from: Data(response.body.readableBytesView))
    }

    @Test func deployAnswers202WithTheSummaryAndPassesEveryField() async throws {
        let control = ScriptedRolloutControl()
        try await application(control).test(.router) { client in
            let body = """
                {"version": "2.0.0", "strategy": "canary", "env": {"MODE": "fast"}, "supersede": true,
                 "by": "ada", "reason": "new checkout"}
                """
            try await client.execute(uri: "/api/v1/apps/shop/deploy", method: .post, body: json(body)) { response in
                #expect(response.status == .accepted)
                #expect(response.headers[.contentType] == "application/json; charset=utf-8")
                let summary = try JSONDecoder().decode(RolloutSummary.self, from: Data(response.body.readableBytesView))
                #expect(summary.rollout == 3 && summary.to == "2.0.0" && summary.state == "running")
            }
        }
        let deploys = await control.deploys
        #expect(deploys.count == 1)
        #expect(deploys.first?.app == "shop")
        #expect(
            deploys.first?.request
                == DeployRequest(
                    version: "2.0.0",
                    strategy: "canary",
                    env: ["MODE": "fast"],
                    supersede: true,
                    by: "ada",
                    reason: "new checkout"
                )
        )
    }

    @Test func deployDefaultsOptionalFieldsAndTreatsNullAsAbsent() async throws {
        let control = ScriptedRolloutControl()
        try await application(control).test(.router) { client in
            let body = json(#"{"version": "2.0.0", "strategy": null}"#)
            try await client.execute(uri: "/api/v1/apps/shop/deploy", method: .post, body: body) { response in
                #expect(response.status == .accepted)
            }
        }
        #expect(await control.deploys.first?.request == DeployRequest(version: "2.0.0", by: "api"))
    }

    @Test(arguments: [
        ("promote", "", UserCommand.promote(full: false), "api"),
        ("promote", #"{"full": true, "by": "ada"}"#, .promote(full: true), "ada"),
        ("abort", "{}", .abort, "api"),
        ("pause", #"{"by": "ada"}"#, .pause, "ada"),
        ("resume", "", .resume, "api"),
        ("retry", "  \n", .retry, "api"),
        ("rollback", "", .rollback(to: nil), "api"),
        ("rollback", #"{"to": "1.0.0"}"#, .rollback(to: "1.0.0"), "api"),
    ])
    func commandsReachTheControlAndAnswerWithTheRollout(
        action: String,
        body: String,
        command: UserCommand,
        user: String
    ) async throws {
        let control = ScriptedRolloutControl()
        try await application(control).test(.router) { client in
            let uri = "/api/v1/apps/shop/\(action)"
            try await client.execute(uri: uri, method: .post, body: body.isEmpty ? nil : json(body)) { response in
                #expect(response.status == .ok)
                let reply = try JSONDecoder().decode(CommandReply.self, from: Data(response.body.readableBytesView))
                #expect(reply.rollout.rollout == 3)
                #expect(reply.message?.hasPrefix("shop: \(command.name): rollout #3 1.0.0 → 2.0.0 (canary) ") == true)
            }
        }
        let commands = await control.commands
        #expect(commands.count == 1)
        #expect(commands.first?.app == "shop")
        #expect(commands.first?.command == command)
        #expect(commands.first?.by == user)
    }

    @Test func pauseMessageSaysWhereTheRolloutHolds() async throws {
        let control = ScriptedRolloutControl()
        try await application(control).test(.router) { client in
            try await client.execute(uri: "/api/v1/apps/shop/pause", method: .post) { response in
                let reply = try JSONDecoder().decode(CommandReply.self, from: Data(response.body.readableBytesView))
                #expect(reply.message == "shop: pause: rollout #3 1.0.0 → 2.0.0 (canary) paused at step 3/9 weight 25%")
            }
        }
    }

    @Test func restartReachesTheControl() async throws {
        let control = ScriptedRolloutControl()
        try await application(control).test(.router) { client in
            try await client.execute(uri: "/api/v1/apps/shop/restart", method: .post, body: json(#"{"by": "ada"}"#)) {
                #expect($0.status == .ok)
            }
        }
        let restarts = await control.restarts
        #expect(restarts.count == 1 && restarts.first?.app == "shop" && restarts.first?.by == "ada")
    }

    @Test func rolloutAnswersTheSummaryOr404WhenThereWasNone() async throws {
        let summary = ScriptedRolloutControl.summary(state: "rolledBack", reason: "5xx spike")
        try await application(ScriptedRolloutControl(rollouts: [summary, nil])).test(.router) { client in
            try await client.execute(uri: "/api/v1/apps/shop/rollout", method: .get) { response in
                #expect(response.status == .ok)
                let decoded = try JSONDecoder().decode(RolloutSummary.self, from: Data(response.body.readableBytesView))
                #expect(decoded == summary)
            }
            try await client.execute(uri: "/api/v1/apps/shop/rollout", method: .get) { response in
                #expect(response.status == .notFound)
                let error = try errorBody(response)
                #expect(error == APIError(code: "notFound", message: "app \"shop\" has had no rollout"))
            }
        }
    }

    @Test(arguments: [
        (CommandRefusal.Code.badRequest, HTTPResponse.Status.badRequest),
        (.notFound, .notFound),
        (.conflict, .conflict),
    ])
    func refusalsMapToTheirStatusWithTheErrorBody(code: CommandRefusal.Code, status: HTTPResponse.Status) async throws {
        let control = ScriptedRolloutControl(refusal: CommandRefusal(code, "refused: \(code.rawValue)"))
        try await application(control).test(.router) { client in
            let requests: [(String, HTTPRequest.Method, String?)] = [
                ("deploy", .post, #"{"version": "2.0.0"}"#), ("promote", .post, nil), ("restart", .post, nil),
                ("rollout", .get, nil),
            ]
            for (action, method, body) in requests {
                try await client.execute(uri: "/api/v1/apps/shop/\(action)", method: method, body: body.map(json)) {
                    response in
                    #expect(response.status == status, "\(action)")
                    let error = try errorBody(response)
                    #expect(error == APIError(code: code.rawValue, message: "refused: \(code.rawValue)"))
                }
            }
        }
    }

    @Test(arguments: [
        ("deploy", #"{"version": "2.0.0""#, "the request body is not valid JSON"),
        ("deploy", "[1, 2]", "the request body must be a JSON object, got an array"),
        ("deploy", "{}", "\"version\" is required"),
        ("deploy", #"{"version": 2}"#, "\"version\": expected a string, got a number"),
        ("deploy", #"{"version": "2", "supersede": "yes"}"#, "\"supersede\": expected true or false, got a string"),
        ("deploy", #"{"version": "2", "env": ["A=1"]}"#, "\"env\": expected an object of strings, got an array"),
        ("deploy", #"{"version": "2", "env": {"A": 1}}"#, "\"env.A\": expected a string, got a number"),
        (
            "deploy", #"{"version": "2", "verison": "3"}"#,
            "unknown field \"verison\"; accepted: \"by\", \"env\", \"force\", \"reason\", \"release\", \"strategy\", "
                + "\"supersede\", \"variants\", \"version\""
        ),
        ("promote", #"{"full": "yes"}"#, "\"full\": expected true or false, got a string"),
        ("promote", #"{"to": "1.0.0"}"#, "unknown field \"to\"; accepted: \"by\", \"full\", \"variant\""),
        ("abort", #"{"by": 7}"#, "\"by\": expected a string, got a number"),
        ("rollback", #"{"to": true}"#, "\"to\": expected a string, got a boolean"),
        ("restart", #"{"full": true}"#, "unknown field \"full\"; accepted: \"by\""),
    ])
    func badBodiesAre400NamingTheFieldAndChangeNothing(action: String, body: String, message: String) async throws {
        let control = ScriptedRolloutControl()
        try await application(control).test(.router) { client in
            try await client.execute(uri: "/api/v1/apps/shop/\(action)", method: .post, body: json(body)) { response in
                #expect(response.status == .badRequest)
                let error = try errorBody(response)
                #expect(error == APIError(code: "badRequest", message: message))
            }
        }
        #expect(await control.changedAnything == false)
    }

    @Test func bodiesOver64KiBAre413AndChangeNothing() async throws {
        let control = ScriptedRolloutControl()
        try await application(control).test(.router) { client in
            let padding = String(repeating: "x", count: CommandRoutes.maximumBodySize)
            let body = json(#"{"version": "2.0.0", "reason": "\#(padding)"}"#)
            try await client.execute(uri: "/api/v1/apps/shop/deploy", method: .post, body: body) { response in
                #expect(response.status == .contentTooLarge)
                let error = try errorBody(response)
                #expect(error == APIError(code: "bodyTooLarge", message: "the request body is larger than 64 KiB"))
            }
            let fits = json(#"{"version": "2.0.0", "reason": "\#(padding.dropFirst(100))"}"#)
            try await client.execute(uri: "/api/v1/apps/shop/deploy", method: .post, body: fits) { response in
                #expect(response.status == .accepted)
            }
        }
        #expect(await control.deploys.count == 1)
    }

    @Test func unknownRoutesAndMethodsAre404() async throws {
        let control = ScriptedRolloutControl()
        try await application(control).test(.router) { client in
            try await client.execute(uri: "/api/v1/apps/shop/explode", method: .post) {
                #expect($0.status == .notFound)
            }
            try await client.execute(uri: "/api/v1/apps/shop/deploy", method: .get) { #expect($0.status == .notFound) }
            try await client.execute(uri: "/api/v2/apps/shop/deploy", method: .post) { #expect($0.status == .notFound) }
        }
        #expect(await control.changedAnything == false)
        #expect(await control.rolloutReads == 0)
    }
}
