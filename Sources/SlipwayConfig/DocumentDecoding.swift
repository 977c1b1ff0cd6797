import Yams

extension ConfigDecoder {
    /// The whole document; nil when anything was reported.
    func document(_ root: Node?) -> SlipwayConfig? {
        guard let root else {
            report(.documentStart, "", "the file is empty; expected a mapping with `apps`")
            return nil
        }
        guard case .mapping = root else {
            report(root.location, "", "expected a mapping with `apps` at the top level, got \(root.foundDescription)")
            return nil
        }
        guard let fields = fields(of: root, at: "", schema: .document) else { return nil }
        let controller = controller(fields["controller"])
        let apps = require("apps", in: fields).flatMap(apps) ?? ([], [])
        checkAddresses(apps.identities, controller: controller, controllerAPI: fields["controller"])
        checkNames(apps.identities)
        guard diagnostics.isEmpty else { return nil }
        return SlipwayConfig(file: file, baseDirectory: baseDirectory, controller: controller, apps: apps.specs)
    }

    /// `apps`: a non-empty list of apps.
    private func apps(_ entry: Entry) -> (specs: [AppSpec], identities: [AppIdentity])? {
        guard let elements = list(entry, expectation: "a list of apps") else { return nil }
        if elements.isEmpty {
            reportExpected("at least one app", entry)
        }
        var specs: [AppSpec] = []
        var identities: [AppIdentity] = []
        for (index, element) in elements.enumerated() {
            let (spec, identity) = app(element, index: index)
            specs += spec.map { [$0] } ?? []
            identities.append(identity)
        }
        return (specs, identities)
    }

    /// App names are unique; a repeated name is reported where it is repeated.
    private func checkNames(_ apps: [AppIdentity]) {
        var firstIndex: [String: Int] = [:]
        for app in apps {
            guard let (name, entry) = app.name else { continue }
            if let first = firstIndex[name] {
                report(entry.value.location, entry.path, "app name `\(name)` is already used by apps[\(first)]")
            } else {
                firstIndex[name] = app.index
            }
        }
    }

    /// Listen addresses differ from each other and from the controller's API address.
    private func checkAddresses(_ apps: [AppIdentity], controller: ControllerSpec, controllerAPI: Entry?) {
        var earlier: [(address: HostPort, index: Int)] = []
        for app in apps {
            guard let (address, entry) = app.listen else { continue }
            if address.conflicts(with: controller.api) {
                let setting = controllerAPI == nil ? "the controller's default API address" : "controller.api"
                report(entry.value.location, entry.path, "address \(address) is already used by \(setting)")
            } else if let other = earlier.first(where: { address.conflicts(with: $0.address) }) {
                let message =
                    "address \(address) is already used by apps[\(other.index)].listen"
                    + (other.address == address ? "" : " (\(other.address))")
                report(entry.value.location, entry.path, message)
            }
            earlier.append((address, app.index))
        }
        checkPreviewAddresses(apps, controller: controller, controllerAPI: controllerAPI)
    }

    /// Blue-green preview addresses differ from every listen address, from each other and from the controller's.
    private func checkPreviewAddresses(_ apps: [AppIdentity], controller: ControllerSpec, controllerAPI: Entry?) {
        let listens = apps.compactMap { app in app.listen.map { (address: $0.value, index: app.index) } }
        var earlier: [(address: HostPort, index: Int)] = []
        for app in apps {
            guard let (address, entry) = app.previewListen else { continue }
            if address.conflicts(with: controller.api) {
                let setting = controllerAPI == nil ? "the controller's default API address" : "controller.api"
                report(entry.value.location, entry.path, "address \(address) is already used by \(setting)")
            } else if let other = listens.first(where: { address.conflicts(with: $0.address) }) {
                let message =
                    "address \(address) is already used by apps[\(other.index)].listen"
                    + (other.address == address ? "" : " (\(other.address))")
                report(entry.value.location, entry.path, message)
            } else if let other = earlier.first(where: { address.conflicts(with: $0.address) }) {
                let message =
                    "address \(address) is already used by apps[\(other.index)].strategy.blueGreen.previewListen"
                    + (other.address == address ? "" : " (\(other.address))")
                report(entry.value.location, entry.path, message)
            }
            earlier.append((address, app.index))
        }
    }
}
