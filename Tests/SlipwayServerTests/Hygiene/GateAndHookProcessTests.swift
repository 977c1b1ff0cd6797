import AsyncHTTPClient
import Foundation
import SlipwayConfig
import SlipwayPlatform
import SlipwayTestSupport
import Synchronization
import Testing

@testable import SlipwayServer

@Suite struct WebhookGateClientTests {
    static func ask(_ gate: WebhookGate, _ url: String) async -> (WebhookGateClient.Result, waited: [String]) {
        let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup)
        let waited = WaitedProblems()
        let result = await WebhookGateClient(client: client).ask(
            gate,
            url: url,
            body: { Array("{\"attempt\":\($0)}".utf8) },
            waiting: { waited.add($0) }
        )
        try? await client.shutdown()
        return (result, waited.all)
    }

    @Test func aGateOpensAtOnceOrAfterWaitingOrNeverBeforeItsDeadline() async throws {
        let receiver = try await TestReceiver.start(script: [.status(200)])
        let secret = SecretSource.literal(SecretText(receiver.url("/go")))
        let (opened, none) = await Self.ask(WebhookGate(url: secret, interval: .milliseconds(50)), receiver.url("/go"))
        #expect(opened.opened && opened.attempts == 1 && opened.lastStatus == 200)
        #expect(none.isEmpty)

        receiver.script([.status(409, "hold"), .status(503), .status(204)])
        let (waited, problems) = await Self.ask(
            WebhookGate(url: secret, interval: .milliseconds(50), deadline: .seconds(10)),
            receiver.url("/go")
        )
        #expect(waited.opened && waited.attempts == 3 && waited.lastStatus == 204)
        #expect(problems == ["answered 409"])

        receiver.script([])
        let closed = try await TestReceiver.start(fallback: .status(503))
        let (never, _) = await Self.ask(
            WebhookGate(url: secret, interval: .milliseconds(100), deadline: .seconds(2)),
            closed.url("/go")
        )
        #expect(!never.opened)
        // Asked again while the deadline allows (a busy machine answers the first question late), never more often
        // than the interval.
        #expect(never.attempts >= 2 && never.attempts <= 21)
        // The last question may get no answer before the deadline cuts it short.
        #expect(
            (never.lastStatus == 503 && never.lastProblem == "answered 503")
                || (never.lastStatus == nil && never.lastProblem == "no answer within the timeout")
        )
        let attempts = closed.requests.map { $0.json?["attempt"] as? Int }
        #expect(attempts.count >= never.attempts - 1 && attempts == Array(1..<(attempts.count + 1)))
        await receiver.stop()
        await closed.stop()
    }

    @Test func aGateNobodyAnswersFailsWithoutShowingItsURL() async throws {
        let port = try await TestReceiver.closedPort()
        let url = "http://127.0.0.1:\(port)/approve/s3cr3t-token"
        let (result, problems) = await Self.ask(
            WebhookGate(url: .literal(SecretText(url)), interval: .milliseconds(50), deadline: .milliseconds(300)),
            url
        )
        #expect(!result.opened)
        #expect(result.lastStatus == nil)
        #expect(result.lastProblem == "could not connect")
        #expect(problems == ["could not connect"])
    }
}

/// Problems a gate reported, collected from its callback.
final class WaitedProblems: Sendable {
    private let problems = Mutex<[String]>([])
    func add(_ problem: String) { problems.withLock { $0.append(problem) } }
    var all: [String] { problems.withLock { $0 } }
}

@Suite struct HookProcessTests {
    @Test func aHookGetsItsArgumentsAndEnvironmentWithoutAShell() async throws {
        let directory = try makeTemporaryDirectory()
        let result = await HookProcess.run(
            argv: ["/bin/sh", "-c", "echo \"$1|$GREETING|$(pwd)\"", "hook", "a b; echo injected"],
            environment: ["GREETING": "hello"],
            workingDirectory: nil,
            baseDirectory: directory,
            timeout: .seconds(10)
        )
        #expect(result.ending == .exited(0))
        #expect(result.output == "a b; echo injected|hello|\(directory)\n")
        #expect(result.outputBytes == result.output.utf8.count)
    }

    @Test func aHookPastItsTimeoutIsStoppedWithItsChildren() async throws {
        let directory = try makeTemporaryDirectory()
        let clock = ContinuousClock()
        let started = clock.now
        let result = await HookProcess.run(
            argv: ["/bin/sh", "-c", "sleep 30 & echo child $!; sleep 30"],
            environment: [:],
            workingDirectory: nil,
            baseDirectory: directory,
            timeout: .milliseconds(300)
        )
        #expect(result.ending == .timedOut)
        #expect(result.summary(timeout: .milliseconds(300)) == "timed out after 0.3s")
        #expect(clock.now - started < .seconds(20))
        let child = try #require(
            Int32(result.output.split(separator: " ").last?.trimmingCharacters(in: .newlines) ?? "")
        )
        try await waitUntil("the hook's child is gone", timeout: .seconds(10)) { kill(child, 0) != 0 }
    }

    @Test func aMissingProgramCannotStartAndTheOutputKeepsItsEnd() async throws {
        let directory = try makeTemporaryDirectory()
        let missing = await HookProcess.run(
            argv: ["./no-such-hook.sh"],
            environment: [:],
            workingDirectory: nil,
            baseDirectory: directory,
            timeout: .seconds(5)
        )
        guard case .couldNotStart(let reason) = missing.ending else {
            Issue.record("expected couldNotStart, got \(missing.ending)")
            return
        }
        #expect(reason.contains("no-such-hook.sh"))
        let noisy = await HookProcess.run(
            argv: ["/bin/sh", "-c", "i=0; while [ $i -lt 2000 ]; do echo line $i; i=$((i+1)); done; exit 4"],
            environment: [:],
            workingDirectory: nil,
            baseDirectory: directory,
            timeout: .seconds(10),
            outputLimit: 100
        )
        #expect(noisy.ending == .exited(4))
        #expect(noisy.output.utf8.count == 100)
        #expect(noisy.output.hasSuffix("line 1999\n"))
        #expect(noisy.outputBytes > 10_000)
    }
}
