import Yams

/// The optional `strategy` section of an app, with its `recreate`, `rolling` and `blueGreen` settings; defaults for
/// whatever is absent or wrong.
extension ConfigDecoder {
    /// The keys naming a strategy, exactly one of which is written under `strategy`.
    static let strategyKinds = ["recreate", "rolling", "blueGreen", "canary", "abTest"]

    /// `apps[n].strategy`. `appInstances` is the app's instance count, nil when it was rejected. A blue-green
    /// `previewListen` is set in `previewListen` for the checks across apps.
    func strategy(
        _ entry: Entry?,
        appInstances: Int?,
        previewListen: inout (value: HostPort, entry: Entry)?
    ) -> StrategySpec {
        var spec = StrategySpec()
        guard let fields = optionalFields(entry, schema: .strategy) else { return spec }
        if let value = fields["progressDeadline"].flatMap({ duration($0, positive: true) }) {
            spec.progressDeadline = value
        }
        if let value = fields["maxDuration"].flatMap({ duration($0, positive: true) }) {
            spec.maxDuration = value
        }
        if let entry = fields["mirror"] {
            spec.mirror = mirrorStep(entry)
        }
        // An empty section, or one whose keys were all rejected as unknown, leaves the default strategy.
        let kind = exactlyOne(
            of: Self.strategyKinds,
            in: fields,
            advice: "choose one strategy",
            reportingNone: !fields.entries.isEmpty
        )
        guard let kind else { return spec }
        switch kind.name {
        case "recreate":
            recreate(kind)
            spec.kind = .recreate
            if let mirror = fields["mirror"] {
                report(
                    mirror.key.location,
                    mirror.path,
                    "`mirror` needs the stable and candidate sets running side by side; `recreate` stops one before "
                        + "starting the other"
                )
            }
        case "rolling":
            spec.kind = .rolling(rolling(kind, appInstances: appInstances))
        case "blueGreen":
            spec.kind = .blueGreen(blueGreen(kind, previewListen: &previewListen))
        case "canary":
            spec.kind = .canary(canary(kind, appInstances: appInstances))
        default:
            spec.kind = .abTest(abTest(kind, appInstances: appInstances))
        }
        return spec
    }

    /// `strategy.recreate`: no settings, so `{}` or no value.
    private func recreate(_ entry: Entry) {
        if entry.value.isNull {
            return
        }
        guard case .mapping = entry.value else {
            reportExpected("an empty mapping {}", entry)
            return
        }
        for setting in entries(of: entry.value, at: entry.path) ?? [] {
            report(setting.key.location, setting.path, "unknown key `\(setting.name)`; `recreate` has no settings")
        }
    }

    /// `strategy.rolling`.
    private func rolling(_ entry: Entry, appInstances: Int?) -> RollingSpec {
        var spec = RollingSpec()
        guard let fields = optionalFields(entry, schema: .rolling) else { return spec }
        var reader = SectionReader(fields: fields)
        if let value = reader.read("maxSurge", instanceAmount) {
            spec.maxSurge = value
        }
        if let value = reader.read("maxUnavailable", instanceAmount) {
            spec.maxUnavailable = value
        }
        spec.analysis = fields["analysis"].map(analysisStep)
        // A rejected value was replaced by its default, which must not be compared as if it had been written.
        if let appInstances, reader.accepted("maxSurge", "maxUnavailable"),
            spec.maxSurge.resolve(of: appInstances, roundUp: true) == 0,
            spec.maxUnavailable.resolve(of: appInstances, roundUp: false) == 0,
            let offending = fields["maxSurge"] ?? fields["maxUnavailable"]
        {
            let message =
                "maxSurge \(describe(spec.maxSurge)) and maxUnavailable \(describe(spec.maxUnavailable)) "
                + "must not both come to 0 of the app's \(appInstances) instances, or no instance can be replaced"
            report(offending.value.location, offending.path, message)
        }
        return spec
    }

    /// `maxSurge` or `maxUnavailable`: a count or a percentage of the app's instances.
    private func instanceAmount(_ entry: Entry) -> InstanceAmount? {
        if entry.value.tagName == Tag.Name.int.rawValue, let text = entry.value.scalarText,
            text.allSatisfy(\.isASCIIDigit), let count = Int(text), count <= 1000
        {
            return .count(count)
        }
        if let text = entry.value.scalarText, let percentage = Percentage.parse(text) {
            return .percentage(percentage)
        }
        reportExpected("an instance count from 0 to 1000 or a percentage like 25%", entry)
        return nil
    }

    private func describe(_ amount: InstanceAmount) -> String {
        switch amount {
        case .count(let count): "\(count)"
        case .percentage(let percentage): "\(percentage)"
        }
    }

    /// `strategy.blueGreen`.
    private func blueGreen(_ entry: Entry, previewListen: inout (value: HostPort, entry: Entry)?) -> BlueGreenSpec {
        var spec = BlueGreenSpec()
        guard let fields = optionalFields(entry, schema: .blueGreen) else { return spec }
        if let listen = fields["previewListen"], let address = hostPort(listen) {
            spec.previewListen = address
            previewListen = (address, listen)
        }
        if let value = fields["autoPromote"].flatMap(boolean) {
            spec.autoPromote = value
        }
        if let value = fields["scaleDownDelay"].flatMap({ duration($0, positive: false) }) {
            spec.scaleDownDelay = value
        }
        spec.prePromotion = fields["prePromotion"].map(analysisStep)
        spec.postPromotion = fields["postPromotion"].map(analysisStep)
        return spec
    }
}
