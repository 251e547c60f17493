// A project of the identity service. The site has exactly the two dcmanager's policy names, `admin` and
// `services`, recorded at the first start (catalog.ts gives their fixed ids). Stream: project-<id>.
import type { Decider, DomainEvent } from '../core/decider.js';
import { NotFoundError } from '../core/errors.js';
import { projectById } from './catalog.js';
import { DEFAULT_DOMAIN } from './user.js';

export const projectStream = (id: string) => `project-${id}`;

export type ProjectEvent = DomainEvent<'ProjectCreated', { id: string; name: string; domainId: string; at: string }>;
export type ProjectCommand = { type: 'SeedProject'; id: string; at: string };
export type ProjectState = { status: 'absent' } | { status: 'active'; id: string; name: string; domainId: string; createdAt: string };

export const initialState = (): ProjectState => ({ status: 'absent' });

function decide(command: ProjectCommand, state: ProjectState): ProjectEvent[] {
  if (state.status === 'active') return []; // seeded already: every start asks again
  const project = projectById(command.id);
  if (!project) throw new NotFoundError(`Could not find project: ${command.id}.`);
  return [{ type: 'ProjectCreated', data: { id: project.id, name: project.name, domainId: DEFAULT_DOMAIN.id, at: command.at } }];
}

export function evolve(_state: ProjectState, event: ProjectEvent): ProjectState {
  const d = event.data;
  return { status: 'active', id: d.id, name: d.name, domainId: d.domainId, createdAt: d.at };
}

export const projectDecider: Decider<ProjectState, ProjectCommand, ProjectEvent> = { decide, evolve, initialState };
