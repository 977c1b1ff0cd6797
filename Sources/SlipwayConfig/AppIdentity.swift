/// What the checks across apps need to know of one app, even when the rest of it is invalid.
struct AppIdentity {
    var index: Int
    /// The key path of the app: `apps[2]`, or `environments.prod.apps.shop`.
    var path: String = ""
    var name: (value: String, entry: Entry)?
    var listen: (value: HostPort, entry: Entry)?
    /// `strategy.blueGreen.previewListen`, which must not take another listener's address either.
    var previewListen: (value: HostPort, entry: Entry)?
}
