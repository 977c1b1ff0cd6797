import Foundation
import SlipwayConfig
import SlipwayCore
import Testing

@Suite("Chaos experiments")
struct ChaosExperimentConfigTests {
    static let experiment = """
        title: Hang one instance under load
        description: The shop keeps answering while one instance freezes.
        tags: [shop]
        steady-state-hypothesis:
          title: The shop answers
          probes:
            - type: probe
              name: home answers 200
              tolerance: 200
              provider: {type: http, url: "http://127.0.0.1:8080/", timeout: 3}
            - type: probe
              name: error rate under 1%
              tolerance: {type: range, range: [0, 0.01]}
              provider: {type: slipway, func: error-rate, arguments: {app: shop, window: 10s}}
        method:
          - type: action
            name: freeze one instance
            provider: {type: slipway, func: hang-instance, arguments: {app: shop, duration: 5s}}
            pauses: {after: 6}
          - type: action
            name: slow the API
            provider:
              type: slipway
              func: add-fault
              arguments: {app: shop, fault: {kind: delay, delayMs: 200, percent: 10}}
          - type: probe
            name: disk
            provider: {type: process, path: df, arguments: [-h, /]}
        rollbacks:
          - type: action
            name: remove the faults
            provider: {type: slipway, func: remove-faults}
        safeguard: {app: shop, maxErrorRate: 5%}
        """

    @Test func readsChaosToolkitsStructureWithSlipwaysProviders() throws {
        let spec = try ChaosExperimentLoader.parse(Self.experiment, file: "exp.yaml")
        #expect(spec.title == "Hang one instance under load")
        #expect(spec.hypothesis?.probes.map(\.name) == ["home answers 200", "error rate under 1%"])
        #expect(spec.hypothesis?.probes[0].tolerance == .equals(.int(200)))
        #expect(spec.hypothesis?.probes[1].tolerance == .range(lower: 0, upper: 0.01))
        #expect(
            spec.hypothesis?.probes[0].provider
                == .http(url: "http://127.0.0.1:8080/", method: "GET", headers: [:], body: nil, timeout: .seconds(3))
        )
        #expect(spec.method.count == 3)
        #expect(spec.method[0].provider == .slipway(.hangInstance(app: "shop", instance: nil, duration: .seconds(5))))
        #expect(spec.method[0].pauseAfter == .seconds(6))
        #expect(
            spec.method[1].provider
                == .slipway(.addFault(app: "shop", fault: ["kind": "delay", "delayMs": 200, "percent": 10]))
        )
        #expect(spec.method[2].provider == .process(path: "df", arguments: ["-h", "/"], timeout: .seconds(60)))
        #expect(spec.rollbacks.first?.provider == .slipway(.removeFaults(app: nil)))
        #expect(spec.safeguard == .init(app: "shop", maxErrorRate: 0.05, window: .seconds(10)))
        guard case .object(let document) = spec.document else {
            Issue.record("the document is not an object")
            return
        }
        #expect(document["title"] == "Hang one instance under load")
    }

    @Test func theSameExperimentInJSONReadsTheSame() throws {
        let json = """
            {"title": "t", "method": [{"type": "action", "name": "kill",
              "provider": {"type": "slipway", "func": "kill-instance", "arguments": {"app": "shop"}}}]}
            """
        let spec = try ChaosExperimentLoader.parse(json, file: "exp.json")
        #expect(spec.method.first?.provider == .slipway(.killInstance(app: "shop", instance: nil, signal: nil)))
    }

    @Test func aHostCutNamesTheHostAndHowLong() throws {
        let yaml = """
            title: t
            method:
              - type: action
                name: cut
                provider: {type: slipway, func: cut-host, arguments: {host: h2, duration: 30s}}
            """
        let spec = try ChaosExperimentLoader.parse(yaml, file: "exp.yaml")
        #expect(spec.method.first?.provider == .slipway(.cutHost(host: "h2", duration: .seconds(30))))
    }

    @Test func badExperimentsNameTheLineKeyPathAndWhatIsExpected() {
        let cases: [(String, String)] = [
            ("title: t\n", "missing required key `method`"),
            ("title: t\nmethod: []\n", "expected a list of at least one activity"),
            (
                "title: t\nmethod:\n  - {type: action, name: a, provider: {type: python, module: m, func: f}}\n",
                "3:39: method[0].provider.type: python providers are Chaos Toolkit's own"
            ),
            (
                "title: t\nmethod:\n  - {type: action, name: a, provider: {type: slipway, func: nuke}}\n",
                "method[0].provider.func: expected one of add-fault"
            ),
            (
                "title: t\nmethod:\n  - {type: step, name: a, provider: {type: slipway, func: remove-faults}}\n",
                "method[0].type: expected action or probe"
            ),
            (
                "title: t\nsteady-state-hypothesis:\n  title: h\n  probes:\n"
                    + "    - {type: probe, name: p, provider: {type: http, url: \"http://127.0.0.1/\"}}\n"
                    + "method:\n  - {type: action, name: a, provider: {type: slipway, func: remove-faults}}\n",
                "steady-state-hypothesis.probes[0]: a hypothesis probe needs a `tolerance`"
            ),
            (
                "title: t\nsecrets: {}\nmethod:\n  - {type: action, name: a, provider: {type: slipway, func: remove-faults}}\n",
                "`secrets` is not supported"
            ),
            (
                "title: t\nmethod:\n  - {type: action, name: a, provider: {type: slipway, func: hang-instance, "
                    + "arguments: {app: shop}}}\n",
                "missing required key `duration`"
            ),
            (
                "title: t\nmethod:\n  - {type: action, name: a, provider: {type: slipway, func: cut-host, "
                    + "arguments: {app: shop, duration: 5s}}}\n",
                "method[0].provider.arguments.app"
            ),
            (
                "title: t\nmethod:\n  - {type: action, name: a, provider: {type: slipway, func: cut-host, "
                    + "arguments: {host: h2}}}\n",
                "missing required key `duration`"
            ),
        ]
        for (text, expected) in cases {
            do {
                _ = try ChaosExperimentLoader.parse(text, file: "exp.yaml")
                Issue.record("accepted: \(text)")
            } catch {
                let messages = error.diagnostics.map(\.description)
                #expect(messages.contains { $0.contains(expected) }, "\(messages)")
            }
        }
    }
}
