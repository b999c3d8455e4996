using ToDoList.Hosting;

return await TodoCommandLine.InvokeAsync(args);
