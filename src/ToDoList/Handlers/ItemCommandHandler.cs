using Microsoft.EntityFrameworkCore;
using ToDoList.Data;
using ToDoList.Items;
using ToDoList.Messaging;
using ToDoList.Messaging.Hosting;

namespace ToDoList.Handlers;

/// <summary>Carries out the fire-and-forget commands on items and announces what changed.</summary>
public sealed class ItemCommandHandler(ToDoDbContext db) : IMessageHandler<CompleteItemCommand>, IMessageHandler<DeleteItemCommand>
{
    // A durable group follows one subject, so each command has its own.
    public const string CompleteGroup = "complete-item";
    public const string DeleteGroup = "delete-item";

    public async ValueTask HandleAsync(MessageContext<CompleteItemCommand> context, CancellationToken cancellationToken)
    {
        // ExecuteUpdate is idempotent: completing twice changes nothing.
        var changed = await db.Items.Where(i => i.Id == context.Data.Id && !i.Done)
            .ExecuteUpdateAsync(s => s.SetProperty(i => i.Done, true), cancellationToken);
        if (changed > 0)
        {
            await context.Bus.PublishAsync(TodoSubjects.ItemCompleted, new ItemChangedEvent(context.Data.Id), cancellationToken: cancellationToken);
        }
    }

    public async ValueTask HandleAsync(MessageContext<DeleteItemCommand> context, CancellationToken cancellationToken)
    {
        var deleted = await db.Items.Where(i => i.Id == context.Data.Id).ExecuteDeleteAsync(cancellationToken);
        if (deleted > 0)
        {
            await context.Bus.PublishAsync(TodoSubjects.ItemDeleted, new ItemChangedEvent(context.Data.Id), cancellationToken: cancellationToken);
        }
    }
}
