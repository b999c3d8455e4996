using System.Collections.ObjectModel;
using System.Diagnostics;
using OpenTelemetry;
using OpenTelemetry.Trace;
using ToDoList.Messaging.Diagnostics;

namespace ToDoList.Tests;

/// <summary>
/// One trace spans the whole way of an item: <c>POST /todo</c> → publish → save handler → database → <c>itemsaved</c> →
/// the web's push to open pages, with W3C trace context carried in the message headers. Seen by an in-memory exporter.
/// </summary>
[Collection(Name)]
public sealed class TracingTests(TodoAppFixture app) : IClassFixture<TodoAppFixture>
{
    /// <summary>Alone: the listener hears every app in the test process, and other classes' POSTs would join its spans.</summary>
    public const string Name = "Tracing, alone";

    [Fact]
    public async Task One_trace_spans_the_post_the_queue_the_save_handler_the_database_and_the_push()
    {
        var spans = new Spans();
        using var tracing = Sdk.CreateTracerProviderBuilder()
            .AddSource(MessagingTelemetry.Name)
            .AddAspNetCoreInstrumentation()
            .AddEntityFrameworkCoreInstrumentation()
            .AddInMemoryExporter(spans)
            .Build();

        var text = TodoHttp.UniqueText("traced");
        await app.Client.AddItemAndWaitAsync(text);

        Activity Find(IEnumerable<Activity> trace, ActivityKind kind, string name, Activity parent) =>
            trace.Single(s => s.Kind == kind && s.DisplayName == name && s.ParentSpanId == parent.SpanId);

        // The handlers' spans and the web's push of the saved item end after the 201, each on its own: wait for them all.
        Activity[] trace = [];
        await Eventually.True(() =>
        {
            var post = spans.Snapshot().SingleOrDefault(s => s.Kind == ActivityKind.Server && s.DisplayName.StartsWith("POST", StringComparison.Ordinal)
                && s.GetTagItem("url.path") as string == "/todo");
            trace = post is null ? [] : spans.Snapshot().Where(s => s.TraceId == post.TraceId).ToArray();
            return Task.FromResult(trace.Any(s => s.DisplayName == "process events.todo.itemsaved")
                && new[] { "save-handler", "audit-handler" }.All(group => trace.Any(s => s.Kind == ActivityKind.Consumer && s.GetTagItem("messaging.consumer.group.name") as string == group)));
        }, "the saved event's push, the save and the audit in the same trace");

        var root = trace.Single(s => s.Kind == ActivityKind.Server);
        var send = Find(trace, ActivityKind.Producer, "send events.todo.newitem", root);
        var save = trace.Single(s => s.Kind == ActivityKind.Consumer && s.ParentSpanId == send.SpanId && s.GetTagItem("messaging.consumer.group.name") as string == "save-handler");
        var audit = trace.Single(s => s.Kind == ActivityKind.Consumer && s.ParentSpanId == send.SpanId && s.GetTagItem("messaging.consumer.group.name") as string == "audit-handler");
        var database = trace.Where(s => s.Kind == ActivityKind.Client && s.ParentSpanId == save.SpanId).ToList();
        var saved = Find(trace, ActivityKind.Producer, "send events.todo.itemsaved", save);
        var push = Find(trace, ActivityKind.Consumer, "process events.todo.itemsaved", saved);

        Assert.NotEmpty(database);
        Assert.Contains(trace, s => s.Kind == ActivityKind.Client && s.ParentSpanId == audit.SpanId);
        Assert.Equal("events.todo.newitem", send.GetTagItem("messaging.destination.name"));
        Assert.Equal("send", send.GetTagItem("messaging.operation.type"));
        Assert.Equal("process", save.GetTagItem("messaging.operation.type"));
        Assert.Equal(app.Bus.Transport.Name, save.GetTagItem("messaging.system"));
        Assert.Equal(send.GetTagItem("messaging.message.id"), save.GetTagItem("messaging.message.id"));
        Assert.Null(push.GetTagItem("messaging.consumer.group.name"));
        Assert.All(trace, s => Assert.NotEqual(ActivityStatusCode.Error, s.Status));
    }

    /// <summary>What the exporter wrote, safe to read while handlers on other threads end their spans.</summary>
    private sealed class Spans : Collection<Activity>
    {
        public Activity[] Snapshot()
        {
            lock (Items)
            {
                return [.. Items];
            }
        }

        protected override void InsertItem(int index, Activity item)
        {
            lock (Items)
            {
                base.InsertItem(index, item);
            }
        }
    }
}

[CollectionDefinition(TracingTests.Name, DisableParallelization = true)]
public sealed class TracingCollection;
