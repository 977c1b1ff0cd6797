import SlipwayConfig
import Testing

@Suite("The hooks section")
struct HookConfigTests {
    @Test func absentHooksRunNothing() throws {
        #expect(try ConfigFixtures.app("").hooks.isEmpty)
        #expect(try ConfigFixtures.app("hooks:").hooks.isEmpty)
        #expect(try ConfigFixtures.app("hooks: { preDeploy: }").hooks.isEmpty)
    }

    @Test func commandsAndGatesAtEveryPoint() throws {
        let yaml = """
            hooks:
              preDeploy:
                - name: snapshot
                  command: [./scripts/snapshot.sh, --label, nightly]
                  env: { PGHOST: db.local }
                  workingDir: scripts
                  timeout: 10m
              prePromotion:
                - command: [/usr/local/bin/smoke-test]
                - name: qa
                  webhook: { url: { env: QA_GATE_URL }, interval: 30s, deadline: 2h, timeout: 3s }
              postPromotion:
                - command: [announce]
              onRollback:
                - command: [./restore.sh]
                  timeout: 45s
            """
        let hooks = try ConfigFixtures.app(yaml).hooks
        #expect(
            hooks[.preDeploy] == [
                HookSpec(
                    name: "snapshot",
                    action: .command(
                        HookCommand(
                            argv: ["./scripts/snapshot.sh", "--label", "nightly"],
                            env: ["PGHOST": "db.local"],
                            workingDirectory: "/srv/shop/scripts",
                            timeout: .seconds(600)
                        )
                    ),
                    keyPath: "apps[0].hooks.preDeploy[0]"
                )
            ]
        )
        // A hook without a name is called after its program.
        #expect(hooks[.prePromotion].map(\.name) == ["smoke-test", "qa"])
        #expect(
            hooks[.prePromotion][1].action
                == .gate(
                    WebhookGate(
                        url: .environment("QA_GATE_URL"),
                        interval: .seconds(30),
                        deadline: .seconds(7200),
                        timeout: .seconds(3)
                    )
                )
        )
        #expect(hooks[.prePromotion][0].action == .command(HookCommand(argv: ["/usr/local/bin/smoke-test"])))
        #expect(hooks[.postPromotion].map(\.name) == ["announce"])
        if case .command(let restore) = hooks[.onRollback].first?.action {
            #expect(restore.timeout == .seconds(45))
        } else {
            Issue.record("onRollback should run a command")
        }
    }

    @Test func aGateTakesItsDefaultsAndALiteralURLStaysSecret() throws {
        let hooks = try ConfigFixtures.app(
            "hooks: { prePromotion: [{ webhook: { url: \"https://gate.example/approve?token=s3cr3t\" } }] }"
        ).hooks
        guard case .gate(let gate) = hooks[.prePromotion].first?.action else {
            Issue.record("expected a gate")
            return
        }
        #expect(gate.interval == .seconds(10))
        #expect(gate.deadline == .seconds(3600))
        #expect(gate.timeout == .seconds(5))
        #expect(hooks[.prePromotion].first?.name == "webhook")
        #expect(!String(describing: gate).contains("s3cr3t"))
        #expect(!String(reflecting: gate).contains("s3cr3t"))
        var dumped = ""
        dump(gate, to: &dumped)
        #expect(!dumped.contains("s3cr3t"))
    }

    @Test func mistakesArePositionedAndNeverEchoAURL() {
        let problems = ConfigFixtures.appProblems(
            """
            hooks:
              preDeploy:
                - command: []
                - { command: [a], webhook: { url: "https://x.example" } }
                - { name: "bad name", command: [b] }
                - { env: { A: b } }
              postPromotion:
                - webhook: { url: "https://gate.example/p" }
              prePromotion:
                - webhook: { url: "ftp://secret-host/path" }
                - webhook: { url: { env: 1BAD } }
                - { command: [c], timeout: soon }
              onDeploy: []
            """
        )
        #expect(
            problems == [
                "slipway.yaml:10:20: apps[0].hooks.preDeploy[0].command: expected a non-empty list with the program "
                    + "and its arguments, got an empty list",
                "slipway.yaml:11:27: apps[0].hooks.preDeploy[1].webhook: `command` and `webhook` cannot both be set; "
                    + "choose one",
                "slipway.yaml:12:19: apps[0].hooks.preDeploy[2].name: expected a hook name of letters, digits, '.', "
                    + "'_' and '-', got \"bad name\"",
                "slipway.yaml:13:11: apps[0].hooks.preDeploy[3]: expected exactly one of `command` or `webhook`, got "
                    + "neither",
                "slipway.yaml:15:11: apps[0].hooks.postPromotion[0].webhook: a webhook gate can only hold a rollout "
                    + "before a step (`preDeploy` or `prePromotion`); to tell another system after `postPromotion`, "
                    + "use `notifications`",
                "slipway.yaml:17:27: apps[0].hooks.prePromotion[0].webhook.url: expected an http or https URL, "
                    + "{env: NAME} or {file: PATH}, got a value that is not shown, as it may be a secret",
                "slipway.yaml:18:34: apps[0].hooks.prePromotion[1].webhook.url.env: expected an environment variable "
                    + "name like SLACK_WEBHOOK_URL, got a value that is not shown, as it may be a secret",
                "slipway.yaml:19:36: apps[0].hooks.prePromotion[2].timeout: expected a duration like 250ms, 2s or "
                    + "1m30s, got \"soon\"",
                "slipway.yaml:20:7: apps[0].hooks.onDeploy: unknown key `onDeploy`; expected one of `preDeploy`, "
                    + "`prePromotion`, `postPromotion`, `onRollback`",
            ]
        )
        #expect(!problems.joined().contains("secret-host"))
    }
}
