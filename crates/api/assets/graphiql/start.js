// GraphiQL against this server: queries and mutations over HTTP, subscriptions over
// graphql-transport-ws on the same path.
(function () {
  var http = new URL('/graphql', window.location.origin).toString();
  var ws = http.replace(/^http/, 'ws');
  var example = [
    '# Start a search, then subscribe to jobProgress with its id.',
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
  var fetcher = GraphiQL.createFetcher({
    url: http,
    wsClient: graphqlWs.createClient({ url: ws, lazy: true })
  });
  ReactDOM.createRoot(document.getElementById('graphiql')).render(
    React.createElement(GraphiQL, { fetcher: fetcher, defaultQuery: example, defaultEditorToolsVisibility: true })
  );
})();
