import Foundation
import SlipwayCore
import SlipwayEngine
import SlipwayServer
import SlipwayStore
import SlipwayTestSupport
import Testing

extension LiveRollouts {
    /// Hooks around real rollouts: commands run as argv with the rollout's facts in their environment, their output
    /// in the log, a failing or hanging pre hook stopping the rollout before it changes anything.
    @Suite struct HookRolloutTests {
        /// `snapshot.sh` (preDeploy) and `smoke.sh` (prePromotion) behave as the files `snapshot.mode` and
        /// `smoke.mode` say: `fail` exits 3 after much output, `hang` sleeps past the timeout.
        static let scripts: [String: String] = [
            "snapshot.sh": """
            #!/bin/sh
            env | grep '^SLIPWAY_' | sort > snapshot.tmp
            echo "cwd=$(pwd) label=$1 extra=$SNAPSHOT_LABEL" >> snapshot.tmp
            mv snapshot.tmp snapshot-$SLIPWAY_ROLLOUT.env
            case "$(cat snapshot.mode 2>/dev/null)" in
              fail)
                i=0
                while [ $i -lt 300 ]; do echo "copying table $i of 300 ........................................"; i=$((i+1)); done
                echo "snapshot failed: disk full" >&2
                exit 3;;
              hang) sleep 30;;
            esac
            echo "snapshot ok"
            """,
            "smoke.sh": """
            #!/bin/sh
            env | grep '^SLIPWAY_' | sort > smoke.tmp && mv smoke.tmp smoke-$SLIPWAY_ROLLOUT.env
            if [ "$(cat smoke.mode 2>/dev/null)" = fail ]; then echo "GET /checkout: 500"; exit 1; fi
            echo "smoke ok"
            """,
            "after.sh": """
            #!/bin/sh
            env | grep '^SLIPWAY_' | sort > after.tmp && mv after.tmp $SLIPWAY_HOOK_POINT-$SLIPWAY_ROLLOUT.env
            """,
        ]

        static let hooks = """
                hooks:
                  preDeploy:
                    - name: snapshot
                      command: [./snapshot.sh, nightly]
                      env: { SNAPSHOT_LABEL: before-deploy }
                      timeout: 1s
                  prePromotion:
                    - name: smoke
                      command: [./smoke.sh]
                  postPromotion:
                    - command: [./after.sh]
                  onRollback:
                    - command: [./after.sh]
            """

        static func start() async throws -> ControllerFixture {
            let yaml = ControllerFixture.demoConfig(
                instances: 2,
                extra: RolloutConfig.app(strategy: "canary:\n  steps:\n    - weight: 50") + "\n" + hooks
            )
            let fixture = try await ControllerFixture(yaml: yaml) { directory in
                for (name, text) in scripts {
                    let path = "\(directory)/\(name)"
                    try text.write(toFile: path, atomically: true, encoding: .utf8)
                    chmod(path, 0o755)
                }
            }
            try await fixture.waitUntilServing(instances: 2)
            return fixture
        }

        /// The `KEY=value` lines of a file a hook wrote (whole, by a rename), once it exists (bounded wait).
        static func variables(_ fixture: ControllerFixture, _ name: String) async throws -> [String: String] {
            let path = "\(fixture.directory)/\(name)"
            try await waitUntil("\(name) is written", timeout: .seconds(10)) {
                FileManager.default.fileExists(atPath: path)
            }
            var result: [String: String] = [:]
            for line in try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n") {
                guard let equals = line.firstIndex(of: "=") else { continue }
                result[String(line[..<equals])] = String(line[line.index(after: equals)...])
            }
            return result
        }

        @Test func hooksRunInOrderWithTheRolloutsFactsAndTheirOutputIsRecorded() async throws {
            let fixture = try await Self.start()
            _ = try await fixture.controller.deploy(
                app: "shop",
                DeployRequest(version: "2.0.0", by: "ada", reason: "new checkout")
            )
            #expect(try await fixture.waitForOutcome().state == "promoted")

            let snapshot = try await Self.variables(fixture, "snapshot-1.env")
            #expect(snapshot["SLIPWAY_HOOK_POINT"] == "preDeploy")
            #expect(snapshot["SLIPWAY_HOOK_NAME"] == "snapshot")
            #expect(snapshot["SLIPWAY_APP"] == "shop")
            #expect(snapshot["SLIPWAY_ENVIRONMENT"] == "")
            #expect(snapshot["SLIPWAY_ROLLOUT"] == "1")
            #expect(snapshot["SLIPWAY_STABLE_VERSION"] == "1.0.0")
            #expect(snapshot["SLIPWAY_CANDIDATE_VERSION"] == "2.0.0")
            #expect(snapshot["SLIPWAY_STRATEGY"] == "canary")
            #expect(snapshot["SLIPWAY_STARTED_BY"] == "ada")
            #expect(snapshot["SLIPWAY_REASON"] == "new checkout")
            #expect(snapshot["SLIPWAY_LISTEN_URL"] == "http://127.0.0.1:\(fixture.port)")
            #expect(snapshot["SLIPWAY_CANDIDATE_URLS"] == "")
            // Arguments as written, the hook's own env, the config's directory as the working directory.
            #expect(snapshot["cwd"] == "\(fixture.directory) label=nightly extra=before-deploy")

            // The smoke test sees the candidate instances that take traffic, and can reach them directly.
            let smoke = try await Self.variables(fixture, "smoke-1.env")
            let urls = try #require(smoke["SLIPWAY_CANDIDATE_URLS"]).split(separator: " ").map(String.init)
            #expect(urls.count == 1)
            #expect(urls.allSatisfy { $0.hasPrefix("http://127.0.0.1:") })

            let post = try await Self.variables(fixture, "postPromotion-1.env")
            #expect(post["SLIPWAY_OUTCOME"] == "promoted")

            // Order in the log: the snapshot ends before any candidate starts; the smoke test ends before the
            // candidate takes all traffic.
            let events = try fixture.log.events(app: "shop", limit: .max)
            func index(_ predicate: (RecordedEvent) -> Bool) -> Int? { events.firstIndex(where: predicate) }
            let snapshotDone = try #require(index { $0.kind == .hookFinished && $0.fields["point"] == "preDeploy" })
            let firstCandidate = try #require(
                index { $0.kind == .instanceStarted && $0.fields["version"] == "2.0.0" }
            )
            let smokeDone = try #require(index { $0.kind == .hookFinished && $0.fields["point"] == "prePromotion" })
            let allTraffic = try #require(
                index { event in
                    guard event.kind == .trafficShifted, case .object(let weights)? = event.fields["weights"] else {
                        return false
                    }
                    return weights["2.0.0"]?.intValue == 100 || weights["2.0.0"] == .double(100)
                }
            )
            #expect(snapshotDone < firstCandidate)
            #expect(firstCandidate < smokeDone && smokeDone < allTraffic)
            let finished = events[snapshotDone]
            #expect(finished.fields["result"] == "succeeded")
            #expect(finished.fields["exitStatus"] == 0)
            #expect(finished.fields["output"] == "snapshot ok\n")
            #expect(finished.fields["outputTruncated"] == false)
            #expect(try fixture.events(.hookStarted).count == 3)
            try await fixture.stop()
        }

        @Test func aBlueGreenSmokeTestReachesTheCandidateThroughThePreviewListenerBeforeTheSwitch() async throws {
            // The smoke test asks the preview listener for `/` with bash's own TCP support and keeps the answer.
            let smoke = """
                #!/bin/bash
                set -eu
                port="${SLIPWAY_PREVIEW_URL##*:}"
                exec 3<>"/dev/tcp/127.0.0.1/$port"
                printf 'GET / HTTP/1.0\\r\\nHost: preview\\r\\n\\r\\n' >&3
                cat <&3 > preview.tmp
                echo "$SLIPWAY_PREVIEW_URL" >> preview.tmp
                mv preview.tmp preview.answer
                echo "preview answered"
                """
            let yaml = ControllerFixture.demoConfig(
                instances: 2,
                extra: RolloutConfig.app(strategy: "blueGreen: { previewListen: 127.0.0.1:0, scaleDownDelay: 0s }")
                    + """

                        hooks:
                          prePromotion:
                            - name: preview-smoke
                              command: [./preview-smoke.sh]
                              timeout: 10s
                    """
            )
            let fixture = try await ControllerFixture(yaml: yaml) { directory in
                let path = "\(directory)/preview-smoke.sh"
                try smoke.write(toFile: path, atomically: true, encoding: .utf8)
                chmod(path, 0o755)
            }
            try await fixture.waitUntilServing(instances: 2)
            _ = try await fixture.controller.deploy(app: "shop", DeployRequest(version: "2.0.0", by: "ada"))
            #expect(try await fixture.waitForOutcome().state == "promoted")
            let answer = try String(contentsOfFile: "\(fixture.directory)/preview.answer", encoding: .utf8)
            // The preview listener served the candidate while all users were still on 1.0.0.
            #expect(answer.hasPrefix("HTTP/1.1 200") || answer.hasPrefix("HTTP/1.0 200"))
            #expect(answer.contains("\"version\":\"2.0.0\""))
            #expect(answer.contains("http://127.0.0.1:"))
            let finished = try #require(try fixture.events(.hookFinished).last)
            #expect(finished.fields["result"] == "succeeded")
            #expect(finished.fields["output"] == "preview answered\n")
            try await fixture.stop()
        }

        @Test func aFailingOrHangingPreDeployHookStopsTheRolloutBeforeAnythingStarts() async throws {
            let fixture = try await Self.start()
            try "fail".write(toFile: "\(fixture.directory)/snapshot.mode", atomically: true, encoding: .utf8)
            _ = try await fixture.controller.deploy(app: "shop", DeployRequest(version: "2.0.0", by: "ada"))
            let failed = try await fixture.waitForOutcome()
            #expect(failed.state == "rolledBack")
            #expect(failed.reason == "preDeploy hook failed: snapshot exited with status 3")
            let record = try #require(try fixture.events(.hookFinished).last)
            #expect(record.fields["result"] == "failed")
            #expect(record.fields["exitStatus"] == 3)
            #expect(record.fields["outputTruncated"] == true)
            let output = try #require(record.fields["output"]?.stringValue)
            #expect(output.utf8.count <= 8_192)
            // The end of the output is kept, standard error in the order it was written: the last words first.
            #expect(
                output.hasSuffix(
                    "copying table 299 of 300 ........................................\nsnapshot failed: disk full\n"
                )
            )
            #expect(output.contains("copying table 299 of 300"))
            #expect(!output.contains("copying table 0 of 300"))
            #expect((record.fields["outputBytes"]?.intValue ?? 0) > 8_192)

            try "hang".write(toFile: "\(fixture.directory)/snapshot.mode", atomically: true, encoding: .utf8)
            _ = try await fixture.controller.deploy(app: "shop", DeployRequest(version: "2.0.0", by: "ada"))
            let hung = try await fixture.waitForOutcome()
            #expect(hung.rollout == 2)
            #expect(hung.reason == "preDeploy hook failed: snapshot timed out after 1s")
            #expect(try fixture.events(.hookFinished).last?.fields["result"] == "timedOut")

            // Nothing of 2.0.0 ever started, traffic never moved, and no rollback hook ran for nothing.
            #expect(try fixture.events(.instanceStarted).allSatisfy { $0.fields["version"] == "1.0.0" })
            #expect(fixture.weights == ["1.0.0": 10_000])
            #expect(!FileManager.default.fileExists(atPath: "\(fixture.directory)/onRollback-1.env"))
            #expect(!FileManager.default.fileExists(atPath: "\(fixture.directory)/onRollback-2.env"))

            // A failing smoke test rolls back a candidate that already took traffic, and the rollback hook runs.
            try "".write(toFile: "\(fixture.directory)/snapshot.mode", atomically: true, encoding: .utf8)
            try "fail".write(toFile: "\(fixture.directory)/smoke.mode", atomically: true, encoding: .utf8)
            _ = try await fixture.controller.deploy(app: "shop", DeployRequest(version: "2.0.0", by: "ada"))
            let smoked = try await fixture.waitForOutcome()
            #expect(smoked.state == "rolledBack")
            #expect(smoked.reason == "prePromotion hook failed: smoke exited with status 1")
            let rollback = try await Self.variables(fixture, "onRollback-3.env")
            #expect(rollback["SLIPWAY_OUTCOME"] == "rolledBack")
            #expect(rollback["SLIPWAY_OUTCOME_REASON"] == "prePromotion hook failed: smoke exited with status 1")
            #expect(fixture.weights == ["1.0.0": 10_000])
            try await fixture.stop()
        }
    }
}
