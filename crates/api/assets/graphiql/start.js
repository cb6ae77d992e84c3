// GraphiQL against this server: queries and mutations over HTTP, subscriptions over
// graphql-transport-ws on the same path.
(function () {
  var http = new URL('/graphql', window.location.origin).toString();
  var ws = http.replace(/^http/, 'ws');
  var example = [
    '# 1. Sign up (or logIn), and put the token in the Headers tab below:',
    '#    {"Authorization": "Bearer <token>"}',
    '# 2. Start a search, then subscribe to jobProgress with its id.',
    'mutation SignUp {',
    '  signUp(email: "you@example.com", password: "at least ten characters") { token }',
    '}',
    '',
    'mutation Start {',
    '  startSearch(input: {',
    '    origins: ["LON"], destinations: ["BKK"],',
    '    departureFrom: "' + daysFromNow(30) + '", departureTo: "' + daysFromNow(36) + '",',
    '    nights: { min: 7, max: 10 }',
    '  }) { id status totalTasks }',
    '}',
    '',
    'subscription Progress($id: UUID!) {',
    '  jobProgress(jobId: $id) { status completedTasks totalTasks foundFlights bestPrice { amount currency } etaSeconds }',
    '}',
    ''
  ].join('\n');
  function daysFromNow(n) {
    var d = new Date(Date.now() + n * 86400000);
    return d.toISOString().slice(0, 10);
  }
  // The websocket sends the Authorization header of the Headers tab in connection_init,
  // read when a connection opens (it closes when no subscription is left).
  function connectionParams() {
    try {
      var headers = JSON.parse(window.localStorage.getItem('graphiql:headers') || '{}');
      for (var name in headers) {
        if (name.toLowerCase() === 'authorization') {
          return { authorization: headers[name] };
        }
      }
    } catch (e) {
      // Headers that are not JSON yet: connect without a token.
    }
    return {};
  }
  var fetcher = GraphiQL.createFetcher({
    url: http,
    wsClient: graphqlWs.createClient({ url: ws, lazy: true, connectionParams: connectionParams })
  });
  ReactDOM.createRoot(document.getElementById('graphiql')).render(
    React.createElement(GraphiQL, { fetcher: fetcher, defaultQuery: example, defaultEditorToolsVisibility: true })
  );
})();
